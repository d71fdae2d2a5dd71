// The reception (バーチャル懇親会) part of the lecture page: the move into a social
// room without a reload, the table's members, the timer, the lobby and, on the
// console, opening the reception, broadcasting and looking into rooms.
// User text is only ever set with textContent.

export function setupReception({ root, t, send, state, switchRoom }) {
  const $ = (sel) => root.querySelector(sel);
  const box = $("[data-reception]");
  const consoleMode = root.classList.contains("is-console");
  const en = root.dataset.lang === "en";
  let closesAt = null;
  let timer = null;

  const label = (room) => (en ? room.name_en : room.name);
  const place = (p) => (en ? p.prefecture_name_en : p.prefecture_name);

  function tick() {
    if (!closesAt) return;
    const left = Math.max(0, Math.round((closesAt - Date.now()) / 1000));
    $("[data-reception-timer]").textContent = `${t.time_left} ${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`;
  }

  function showTimer(reception) {
    if (!reception || !reception.closes_at) return;
    closesAt = Date.parse(reception.closes_at);
    if (!timer) timer = setInterval(tick, 1000);
    tick();
  }

  function renderMembers(members) {
    const list = $("[data-reception-members]");
    list.replaceChildren(...members.map((m) => {
      const li = document.createElement("li");
      li.textContent = [m.name, t[m.facility_type] || m.facility_type, place(m)].filter(Boolean).join(" · ");
      return li;
    }));
  }

  function renderRooms(rooms, canJoin) {
    const list = $("[data-reception-rooms]");
    list.replaceChildren(...rooms.map((room) => {
      const li = document.createElement("li");
      li.textContent = `${label(room)} (${room.seated ?? room.members ?? 0})`;
      if (consoleMode) {
        const look = document.createElement("button");
        look.type = "button"; look.className = "mini"; look.textContent = t.look_in;
        look.onclick = () => send({ type: "room.view", room: room.id });
        li.append(" ", look);
      } else if (canJoin) {
        const join = document.createElement("button");
        join.type = "button"; join.className = "mini"; join.textContent = t.join_room;
        join.onclick = () => send({ type: "room.join", room: room.id });
        li.append(" ", join);
      }
      return li;
    }));
  }

  function enter(room, members, reception) {
    root.classList.add("in-reception");
    box.hidden = false;
    $("[data-reception-lobby]").hidden = true;
    $("[data-reception-table]").hidden = false;
    $("[data-reception-title]").textContent = label(room);
    renderMembers(members);
    showTimer(reception);
  }

  function lobby(rooms, reception) {
    root.classList.add("in-reception");
    box.hidden = false;
    $("[data-reception-table]").hidden = true;
    $("[data-reception-lobby]").hidden = false;
    renderRooms(rooms, reception && reception.self_select);
  }

  $("[data-action='leave-room']")?.addEventListener("click", () => send({ type: "room.leave" }));
  $("[data-action='find-room']")?.addEventListener("click", () => send({ type: "room.place" }));
  $("[data-action='open-reception']")?.addEventListener("click", () => send({ type: "reception.open" }));
  $("[data-broadcast-form]")?.addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("[data-broadcast-input]");
    if (input.value.trim()) send({ type: "reception.broadcast", body: input.value.trim() });
    input.value = "";
  });

  return {
    onHello(frame) {
      if (frame.room.kind === "social") enter(frame.room, frame.members, frame.reception);
      if (consoleMode && frame.reception && frame.reception.opened_at) send({ type: "reception.rooms" });
    },
    handle(frame) {
      switch (frame.type) {
        case "room.moved":
          switchRoom(frame.room, frame.messages);
          enter(frame.room, frame.members, frame.reception);
          return true;
        case "room.members":
          if (state.room && frame.room === state.room.id) renderMembers(frame.members);
          return true;
        case "room.left":
          switchRoom(frame.room, []);
          lobby(frame.rooms, state.reception);
          return true;
        case "reception.opened":
          state.reception = frame.reception;
          box.hidden = false;
          $("[data-reception-lobby]").hidden = false;
          renderRooms(frame.rooms, false);
          showTimer(frame.reception);
          return true;
        case "reception.rooms":
          renderRooms(frame.rooms, !consoleMode && state.reception && state.reception.self_select);
          return true;
        case "reception.announcement": {
          const note = $("[data-reception-announcement]");
          note.hidden = false;
          note.textContent = frame.body;
          return true;
        }
        case "reception.closing": {
          const note = $("[data-reception-warning]");
          note.hidden = false;
          note.textContent = t.closing_soon;
          return true;
        }
        case "reception.closed":
          state.closedForGood = true;
          $("[data-reception-warning]").hidden = true;
          $("[data-reception-ended]").hidden = false;
          $("[data-chat-input]").disabled = true;
          if (timer) clearInterval(timer);
          closesAt = null;
          $("[data-reception-timer]").textContent = "";
          return true;
        default:
          return false;
      }
    },
    remember(reception) { state.reception = reception; },
  };
}
