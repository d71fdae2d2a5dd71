def test_it_serves_the_home_page_in_japanese(client, db):
    response = client.get("/")
    assert response.status_code == 200
    assert "講演会" in response.content.decode() or "Web" in response.content.decode()
