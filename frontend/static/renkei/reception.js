// The reception (バーチャル懇親会) part of the lecture page: the move into a social
// room without a reload, the table's members, the timer, the lobby and, on the
// console, opening the reception, broadcasting and looking into rooms.
// User text is only ever set with textContent.

import { setupTableCall } from "./table_call.js";

export function setupReception({ root, t, send, state, switchRoom }) {
  const $ = (sel) => root.querySelector(sel);
  const box = $("[data-reception]");
  const consoleMode = root.classList.contains("is-console");
  const en = root.dataset.lang === "en";
  let closesAt = null;
  let timer = null;
  const call = setupTableCall({ root, t, send, state });

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

  const offered = new Set();
  let pendingOffer = null;

  function renderMembers(members) {
    const list = $("[data-reception-members]");
    const me = state.you && state.you.registration;
    state.tableSize = members.length;  // presence counts the tables together; "here" is the table
    list.replaceChildren(...members.map((m) => {
      const li = document.createElement("li");
      const specialty = en ? m.specialty_label_en : m.specialty_label;
      li.textContent = [m.name, t[m.facility_type] || m.facility_type, specialty, place(m)].filter(Boolean).join(" · ");
      if (!consoleMode && me && m.registration !== me) {
        const offer = document.createElement("button");
        offer.type = "button"; offer.className = "mini";
        offer.dataset.offerTo = m.registration;
        offer.textContent = offered.has(m.registration) ? t.card_offered : t.offer_card;
        offer.disabled = offered.has(m.registration);
        offer.onclick = () => send({ type: "card.offer", to: m.registration });
        li.append(" ", offer);
      }
      return li;
    }));
  }

  function showCard(card) {
    $("[data-cards]").hidden = false;
    const li = document.createElement("li");
    const parts = [card.name, card.facility_name, card.specialty_label, en ? card.prefecture_name_en : card.prefecture_name,
      card.email, card.phone, card.accepts_referrals ? t.accepts_referrals : "", card.message];
    li.textContent = parts.filter(Boolean).join(" · ");
    $("[data-card-list]").append(li);
  }

  function answerOffer(accept) {
    if (pendingOffer === null) return;
    send({ type: "card.answer", id: pendingOffer, accept });
    pendingOffer = null;
    $("[data-card-offer]").hidden = true;
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

  // media: the table's call (null: text-only; undefined: the frame does not say, as the opening's move).
  function enter(room, members, reception, media) {
    root.classList.add("in-reception");
    box.hidden = false;
    $("[data-reception-lobby]").hidden = true;
    $("[data-reception-table]").hidden = false;
    $("[data-reception-title]").textContent = label(room);
    renderMembers(members);
    showTimer(reception);
    call?.enter(room, members, media);
  }

  // A reception opens once: afterwards the console offers the room list, not the button.
  function opened() {
    const button = $("[data-action='open-reception']");
    if (button) button.hidden = true;
  }

  function lobby(rooms, reception) {
    root.classList.add("in-reception");
    box.hidden = false;
    $("[data-reception-table]").hidden = true;
    $("[data-reception-lobby]").hidden = false;
    call?.leave();
    renderRooms(rooms, reception && reception.self_select);
  }

  $("[data-action='card-accept']")?.addEventListener("click", () => answerOffer(true));
  $("[data-action='card-decline']")?.addEventListener("click", () => answerOffer(false));
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
      if (frame.room.kind === "social") enter(frame.room, frame.members, frame.reception, frame.media);
      if (frame.reception && frame.reception.opened_at) {
        opened();
        if (consoleMode) send({ type: "reception.rooms" });
      }
    },
    handle(frame) {
      switch (frame.type) {
        case "room.moved":
          switchRoom(frame.room, frame.messages);
          enter(frame.room, frame.members, frame.reception, frame.media);
          return true;
        case "room.viewing":
          // Staff looking into a table: listening only, when the server hands them the table's call.
          if (consoleMode && frame.room.kind === "social" && "media" in frame) {
            call?.enter(frame.room, frame.members || [], frame.media, { listen: true });
          } else {
            call?.leave();
          }
          return false;  // the lecture page switches the chat
        case "media.muted":
          call?.muted(frame);
          return true;
        case "room.members":
          if (state.room && frame.room === state.room.id) { renderMembers(frame.members); call?.members(frame.members); }
          return true;
        case "room.left":
          switchRoom(frame.room, []);
          lobby(frame.rooms, state.reception);
          return true;
        case "reception.opened":
          state.reception = frame.reception;
          opened();
          box.hidden = false;
          $("[data-reception-lobby]").hidden = false;
          renderRooms(frame.rooms, false);
          showTimer(frame.reception);
          return true;
        case "reception.rooms":
          renderRooms(frame.rooms, !consoleMode && state.reception && state.reception.self_select);
          return true;
        case "card.pending": {
          offered.add(frame.to);
          const button = root.querySelector(`[data-offer-to="${frame.to}"]`);
          if (button) { button.disabled = true; button.textContent = t.card_offered; }
          return true;
        }
        case "card.offered":
          pendingOffer = frame.id;
          $("[data-card-offer-text]").textContent = `${frame.from.name} (${place(frame.from)}) ${t.card_offer_from}`;
          $("[data-card-offer]").hidden = false;
          return true;
        case "card.exchanged":
          showCard(frame.card);
          return true;
        case "card.declined": {
          const note = $("[data-reception-announcement]");
          note.hidden = false;
          note.textContent = t.card_declined;
          return true;
        }
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
          call?.closing();
          return true;
        }
        case "reception.closed":
          state.closedForGood = true;
          call?.closed();
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
