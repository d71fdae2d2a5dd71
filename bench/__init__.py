"""The lecture-room benchmark: ``scripts/bench`` (full targets) or ``scripts/bench --smoke``.

bench/lecture.py   the orchestrator: database, Redis prefix, servers, phases, report
bench/client.py    a client worker process: joins attendees, sends and counts chat
bench/seed.py      creates the event, talk and registrations in the run's database
bench/bare_app.py  the reference: a bare ASGI broadcast app (no Django, no channel layer)
"""
