/*
 * Santun chat widget: one <script src=".../widget.js" data-api="" data-token=""> tag
 * renders a launcher button and a chat panel on any page.
 *
 * Safety rules this file keeps (tests/agent/test_widget.py greps for them):
 * every piece of debtor, bot or agent text goes into the page through textContent;
 * links are built as elements with href set as a property after a protocol check;
 * no inline styles or handlers, so a strict CSP (script-src/style-src 'self') holds.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || window.__santunWidget) {
    return;
  }
  window.__santunWidget = true;

  var scriptUrl = new URL(script.src, window.location.href);
  var API = (script.getAttribute("data-api") || scriptUrl.origin).replace(/\/+$/, "");
  var authToken = script.getAttribute("data-token") || "";
  var STORAGE_KEY = "santun-widget:" + API;
  var POLL_MS = 3000;
  var STREAM_IDLE_MS = 45000;
  var MAX_ENTRIES = 200;
  var MAX_ATTEMPTS = 12; // about two minutes of retries before giving up

  var TEXT = {
    launcher: "Butuh bantuan?",
    launcherLabel: "Butuh bantuan? Buka obrolan dengan Santun",
    launcherUnread: "Butuh bantuan? Buka obrolan dengan Santun, ada pesan baru dari petugas",
    dialog: "Obrolan dengan Santun, asisten virtual Bank Nusantara",
    title: "Santun",
    subtitle: "Asisten virtual Bank Nusantara",
    close: "Tutup obrolan",
    log: "Riwayat percakapan",
    placeholder: "Ketik pesan...",
    send: "Kirim",
    sendLabel: "Kirim pesan",
    typing: "Santun sedang mengetik...",
    reconnecting: "Koneksi terputus, mencoba lagi...",
    safety: "Jangan pernah membagikan PIN, OTP, atau kata sandi kepada siapa pun, termasuk kepada kami.",
    you: "Anda",
    bot: "Santun",
    agent: "Petugas",
    sources: "Sumber",
    pay: "Bayar sekarang",
    payLabel: "Bayar sekarang (membuka halaman pembayaran di tab baru)",
    offers: "Pilihan pembayaran",
    failed: "Mohon maaf, pesan belum dapat diproses. Silakan coba lagi.",
    gaveUp: "Pesan belum terkirim karena koneksi terputus. Mohon periksa koneksi Anda, lalu kirim ulang.",
    sessionLost: "Sesi tidak ditemukan. Silakan mulai percakapan baru.",
    reminder: "Pesan dari Bank Nusantara untuk Anda:"
  };

  var PLAN_LABELS = {
    bayar_penuh: "Bayar penuh",
    bayar_minimum: "Bayar minimum",
    cicilan_tetap: "Cicilan tetap {tenor} bulan",
    restrukturisasi: "Restrukturisasi {tenor} bulan",
    pelunasan_diskon: "Pelunasan dengan diskon",
    penundaan: "Penundaan pembayaran",
    bayar_tunggakan: "Bayar tunggakan",
    perpanjangan_tenor: "Perpanjangan tenor {tenor} bulan"
  };

  // What a chip sends; each phrase is checked against the offline NLU by the tests.
  // {tenor} is the offer's tenor in months, {n} its 1-based place in the offer list.
  var CHOICE_PHRASES = {
    "bayar_penuh": "saya pilih bayar penuh",
    "bayar_minimum": "saya pilih nomor {n}: bayar minimum",
    "cicilan_tetap": "saya pilih cicilan {tenor} bulan",
    "restrukturisasi": "saya pilih restrukturisasi {tenor} bulan",
    "pelunasan_diskon": "saya pilih pelunasan dengan diskon",
    "penundaan": "saya pilih nomor {n}: penundaan pembayaran",
    "bayar_tunggakan": "saya pilih nomor {n}: bayar tunggakan saja",
    "perpanjangan_tenor": "saya pilih perpanjangan tenor {tenor} bulan"
  };
  var FALLBACK_PHRASE = "saya pilih opsi nomor {n}";

  // ---- state (kept in sessionStorage so a reload in the same tab keeps the chat) ----

  var state = load();
  var busy = false;
  var sessionPromise = null;
  var pollTimer = null;
  var pollStopped = false;
  var ui = {};

  function blankState() {
    return { sessionId: null, entries: [], pending: null, handoff: false,
             lastSeq: 0, shownSeqs: [], open: false };
  }

  function load() {
    try {
      var raw = window.sessionStorage.getItem(STORAGE_KEY);
      var saved = raw ? JSON.parse(raw) : null;
      if (saved && typeof saved === "object" && Array.isArray(saved.entries)) {
        var fresh = blankState();
        Object.keys(fresh).forEach(function (key) {
          if (key in saved) {
            fresh[key] = saved[key];
          }
        });
        return fresh;
      }
    } catch (err) {
      // Storage may be disabled or hold garbage: start a fresh conversation.
    }
    return blankState();
  }

  function save() {
    state.entries = state.entries.slice(-MAX_ENTRIES);
    state.shownSeqs = state.shownSeqs.slice(-MAX_ENTRIES);
    try {
      window.sessionStorage.setItem(STORAGE_KEY, JSON.stringify(state));
    } catch (err) {
      // Without storage the chat still works; it just does not survive a reload.
    }
  }

  // ---- small DOM helpers: text only ever goes in through textContent ----

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined && text !== null) {
      node.textContent = String(text);
    }
    return node;
  }

  function svgIcon() {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", "santun-icon");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("d", "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z");
    svg.appendChild(path);
    return svg;
  }

  function safeHttpUrl(raw) {
    if (typeof raw !== "string" || !raw) {
      return null;
    }
    try {
      var url = new URL(raw, API + "/");
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (err) {
      return null;
    }
  }

  function rupiah(value) {
    var n = Math.round(Number(value));
    if (!isFinite(n)) {
      return "";
    }
    var digits = String(Math.abs(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ".");
    return (n < 0 ? "-" : "") + "Rp" + digits;
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (match, key) {
      return values[key] === undefined || values[key] === null ? "" : String(values[key]);
    }).replace(/\s+/g, " ").trim();
  }

  function uuid() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return (b + 256).toString(16).slice(1);
    }).join("");
  }

  // Waits ms, or less when the browser reports that it is back online.
  function pause(ms) {
    return new Promise(function (resolve) {
      var timer = window.setTimeout(done, ms);
      function done() {
        window.clearTimeout(timer);
        window.removeEventListener("online", done);
        resolve();
      }
      window.addEventListener("online", done);
    });
  }

  function backoff(attempt) {
    var base = Math.min(10000, 500 * Math.pow(2, attempt));
    return base / 2 + Math.random() * base / 2;
  }

  // ---- building the widget ----

  function addStylesheet() {
    var link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = new URL("widget.css", scriptUrl).href;
    document.head.appendChild(link);
  }

  function build() {
    var root = el("div", "santun-root");
    root.id = "santun-widget";

    var launcher = el("button", "santun-launcher");
    launcher.type = "button";
    launcher.setAttribute("aria-label", TEXT.launcherLabel);
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-controls", "santun-panel");
    launcher.appendChild(svgIcon());
    launcher.appendChild(el("span", "santun-launcher-text", TEXT.launcher));

    var panel = el("div", "santun-panel");
    panel.id = "santun-panel";
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-modal", "false");
    panel.setAttribute("aria-label", TEXT.dialog);
    panel.hidden = true;

    var header = el("div", "santun-header");
    var heading = el("div", "santun-heading");
    heading.appendChild(el("h2", "santun-title", TEXT.title));
    heading.appendChild(el("p", "santun-subtitle", TEXT.subtitle));
    var close = el("button", "santun-close", "\u00d7");
    close.type = "button";
    close.setAttribute("aria-label", TEXT.close);
    header.appendChild(heading);
    header.appendChild(close);

    var log = el("div", "santun-log");
    log.setAttribute("role", "log");
    log.setAttribute("aria-live", "polite");
    log.setAttribute("aria-label", TEXT.log);
    log.tabIndex = 0;

    var typing = el("p", "santun-typing", TEXT.typing);
    typing.setAttribute("role", "status");
    typing.hidden = true;
    var status = el("p", "santun-status");
    status.setAttribute("role", "status");
    status.hidden = true;

    var form = el("form", "santun-form");
    form.noValidate = true;
    var label = el("label", "santun-sr-only", TEXT.placeholder);
    label.htmlFor = "santun-input";
    var input = el("input", "santun-input");
    input.id = "santun-input";
    input.type = "text";
    input.autocomplete = "off";
    input.maxLength = 4000;
    input.placeholder = TEXT.placeholder;
    var send = el("button", "santun-send", TEXT.send);
    send.type = "submit";
    send.setAttribute("aria-label", TEXT.sendLabel);
    form.appendChild(label);
    form.appendChild(input);
    form.appendChild(send);

    panel.appendChild(header);
    panel.appendChild(log);
    panel.appendChild(typing);
    panel.appendChild(status);
    panel.appendChild(form);
    panel.appendChild(el("p", "santun-safety", TEXT.safety));
    root.appendChild(panel);
    root.appendChild(launcher);
    document.body.appendChild(root);

    ui = { root: root, launcher: launcher, panel: panel, close: close, log: log,
           typing: typing, status: status, form: form, input: input, send: send };

    launcher.addEventListener("click", function () {
      if (panel.hidden) {
        openPanel();
      } else {
        closePanel();
      }
    });
    close.addEventListener("click", closePanel);
    panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        event.preventDefault();
        closePanel();
      }
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = input.value;
      if (text.trim() && !busy) {
        input.value = "";
        sendMessage(text);
      }
    });
  }

  function openPanel() {
    ui.panel.hidden = false;
    ui.root.classList.add("santun-root--open");
    ui.launcher.setAttribute("aria-expanded", "true");
    ui.launcher.classList.remove("santun-launcher--unread");
    ui.launcher.setAttribute("aria-label", TEXT.launcherLabel);
    state.open = true;
    save();
    scrollToEnd();
    ui.input.focus();
    ensureSession().catch(function () { /* shown in the panel already */ });
  }

  function closePanel() {
    ui.panel.hidden = true;
    ui.root.classList.remove("santun-root--open");
    ui.launcher.setAttribute("aria-expanded", "false");
    state.open = false;
    save();
    ui.launcher.focus();
  }

  function scrollToEnd() {
    ui.log.scrollTop = ui.log.scrollHeight;
  }

  function setBusy(value) {
    busy = value;
    ui.send.disabled = value;
    ui.typing.hidden = !value;
    refreshChips();
  }

  function showStatus(text) {
    ui.status.textContent = text || "";
    ui.status.hidden = !text;
  }

  // ---- rendering entries ----

  function addEntry(entry) {
    state.entries.push(entry);
    save();
    ui.log.appendChild(renderEntry(entry));
    refreshChips();
    scrollToEnd();
  }

  function renderAll() {
    ui.log.textContent = "";
    state.entries.forEach(function (entry) {
      ui.log.appendChild(renderEntry(entry));
    });
    refreshChips();
  }

  function renderEntry(entry) {
    var role = entry.role;
    var wrap = el("div", "santun-msg santun-msg--" + role);
    if (role === "notice") {
      wrap.appendChild(el("p", "santun-notice", entry.text));
      return wrap;
    }
    var who = role === "user" ? TEXT.you : role === "agent" ? TEXT.agent : TEXT.bot;
    var name = el("span", role === "agent" ? "santun-who santun-who--agent" : "santun-who", who);
    if (role !== "agent") {
      name.classList.add("santun-sr-only");
    }
    var bubble = el("div", "santun-bubble");
    bubble.appendChild(name);
    bubble.appendChild(el("p", "santun-text", entry.text));
    wrap.appendChild(bubble);
    if (entry.citations && entry.citations.length) {
      wrap.appendChild(renderCitations(entry.citations));
    }
    if (entry.pay) {
      var pay = renderPay(entry.pay);
      if (pay) {
        wrap.appendChild(pay);
      }
    }
    if (entry.offers && entry.offers.length) {
      wrap.appendChild(renderChips(entry.offers));
    }
    return wrap;
  }

  function renderCitations(citations) {
    var box = el("div", "santun-cites");
    box.appendChild(el("p", "santun-cites-title", TEXT.sources));
    var list = el("ol", "santun-cites-list");
    citations.forEach(function (cite) {
      var item = el("li", "santun-cite");
      item.appendChild(el("span", "santun-cite-title", cite.title || cite.id || ""));
      if (cite.source) {
        item.appendChild(el("span", "santun-cite-source", " \u2014 " + cite.source));
      }
      list.appendChild(item);
    });
    box.appendChild(list);
    return box;
  }

  function renderPay(pay) {
    var href = safeHttpUrl(pay.url);
    if (!href) {
      return null;
    }
    var link = el("a", "santun-pay", TEXT.pay);
    link.href = href;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    var amount = pay.amount ? " " + rupiah(pay.amount) : "";
    link.setAttribute("aria-label", TEXT.payLabel.replace("sekarang", "sekarang" + amount));
    return link;
  }

  function renderChips(offers) {
    var group = el("div", "santun-chips");
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", TEXT.offers);
    offers.forEach(function (offer) {
      var chip = el("button", "santun-chip");
      chip.type = "button";
      chip.appendChild(el("span", "santun-chip-label", offer.label));
      if (offer.amount) {
        chip.appendChild(el("span", "santun-chip-amount", offer.amount));
      }
      chip.addEventListener("click", function () {
        if (!busy && !chip.disabled) {
          sendMessage(offer.message);
        }
      });
      group.appendChild(chip);
    });
    return group;
  }

  // Chips answer the latest offers only; older ones stay visible but inert.
  function refreshChips() {
    var groups = ui.log.querySelectorAll(".santun-chips");
    var lastMsg = ui.log.lastElementChild;
    Array.prototype.forEach.call(groups, function (group) {
      var live = !busy && group.parentNode === lastMsg;
      Array.prototype.forEach.call(group.querySelectorAll("button"), function (chip) {
        chip.disabled = !live;
      });
    });
  }

  // ---- reading an answer ----

  function offerChips(result) {
    if (!result || !Array.isArray(result.offers)) {
      return [];
    }
    return result.offers.map(function (offer, index) {
      var values = { tenor: offer.tenor_months, n: index + 1 };
      var label = fill(PLAN_LABELS[offer.plan] || String(offer.plan || "").replace(/_/g, " "), values);
      var value = offer.installment || offer.amount;
      var amount = value ? rupiah(value) + (offer.installment ? " per bulan" : "") : "";
      var phrase = CHOICE_PHRASES[offer.plan] || FALLBACK_PHRASE;
      if (phrase.indexOf("{tenor}") >= 0 && !offer.tenor_months) {
        phrase = FALLBACK_PHRASE;
      }
      return { label: label, amount: amount, message: fill(phrase, values) };
    }).filter(function (chip) { return chip.label && chip.message; });
  }

  function entryFromAnswer(answer) {
    var entry = { role: "bot", text: answer.reply };
    var calls = Array.isArray(answer.tool_calls) ? answer.tool_calls : [];
    calls.forEach(function (call) {
      var result = call && call.result;
      if (!result || result.ok === false) {
        return;
      }
      if (call.name === "create_payment_link" && safeHttpUrl(result.url)) {
        entry.pay = { url: result.url, amount: result.amount };
      } else if (call.name === "list_payment_plans") {
        var chips = offerChips(result);
        if (chips.length) {
          entry.offers = chips;
        }
      }
    });
    if (Array.isArray(answer.citations) && answer.citations.length) {
      entry.citations = answer.citations.map(function (c) {
        return { id: String(c.id || ""), title: String(c.title || ""), source: String(c.source || "") };
      });
    }
    return entry;
  }

  function applyAnswer(answer) {
    // An empty reply means a human agent holds the conversation: nothing to show.
    if (typeof answer.reply === "string" && answer.reply.trim()) {
      addEntry(entryFromAnswer(answer));
    }
    state.handoff = Boolean(answer.handoff);
    save();
    if (answer.verified) {
      fetchInbox();
    }
    if (state.handoff) {
      startPolling();
    } else {
      stopPolling();
    }
  }

  // ---- talking to the API ----

  // Reminders the bank left in the web inbox: shown once the debtor is verified, once each.
  async function fetchInbox() {
    if (!state.sessionId) {
      return;
    }
    try {
      var path = "/api/sessions/" + encodeURIComponent(state.sessionId) + "/inbox";
      var response = await request(path, { method: "GET", credentials: "omit" });
      var data = await response.json();
      (data.messages || []).forEach(function (message) {
        addEntry({ role: "notice", text: TEXT.reminder });
        addEntry({ role: "bot", text: String(message.text) });
      });
    } catch (err) {
      // The inbox can wait: it is asked again after the next verified answer.
    }
  }

  function Failure(kind, message, status) {
    this.kind = kind; // "retry" (network, 5xx), "session" (404), "final" (show and stop)
    this.message = message;
    this.status = status || 0;
  }

  async function errorFrom(response) {
    var message = "";
    try {
      var body = await response.json();
      if (body && typeof body.detail === "string") {
        message = body.detail;
      } else if (body && typeof body.message === "string") {
        message = body.message;
      }
    } catch (err) {
      // Not JSON: keep the generic message.
    }
    if (response.status >= 500) {
      return new Failure("retry", message, response.status);
    }
    if (response.status === 404) {
      return new Failure("session", message || TEXT.sessionLost, 404);
    }
    return new Failure("final", message || TEXT.failed, response.status);
  }

  async function request(path, options) {
    var response;
    try {
      response = await window.fetch(API + path, options);
    } catch (err) {
      throw new Failure("retry", "");
    }
    if (!response.ok) {
      throw await errorFrom(response);
    }
    return response;
  }

  function postJson(path, body, signal) {
    return request(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "text/event-stream, application/json" },
      body: JSON.stringify(body),
      credentials: "omit",
      signal: signal
    });
  }

  // Retries fn() after network drops and 5xx with growing pauses; other failures pass through.
  async function withRetry(fn) {
    for (var attempt = 0; ; attempt++) {
      try {
        var result = await fn();
        showStatus("");
        return result;
      } catch (err) {
        if (!(err instanceof Failure) || err.kind !== "retry") {
          showStatus("");
          throw err;
        }
        if (attempt + 1 >= MAX_ATTEMPTS) {
          showStatus("");
          throw new Failure("final", TEXT.gaveUp);
        }
        showStatus(TEXT.reconnecting);
        await pause(backoff(attempt));
      }
    }
  }

  function ensureSession() {
    if (state.sessionId) {
      return Promise.resolve(state.sessionId);
    }
    if (!sessionPromise) {
      sessionPromise = withRetry(createSession).then(function (id) {
        sessionPromise = null;
        return id;
      }, function (err) {
        sessionPromise = null;
        if (err instanceof Failure && err.message) {
          addEntry({ role: "notice", text: err.message });
          err.shown = true;
        }
        throw err;
      });
    }
    return sessionPromise;
  }

  async function createSession() {
    var body = authToken ? { auth_token: authToken } : {};
    var response;
    try {
      response = await postJson("/api/sessions", body);
    } catch (err) {
      if (err instanceof Failure && err.status === 401 && authToken) {
        // A bad or expired token: say so, then carry on unverified.
        authToken = "";
        addEntry({ role: "notice", text: err.message });
        response = await postJson("/api/sessions", {});
      } else {
        throw err;
      }
    }
    var created = await response.json();
    state.sessionId = String(created.session_id);
    state.handoff = false;
    state.lastSeq = 0;
    state.shownSeqs = [];
    save();
    if (created.reply) {
      addEntry({ role: "bot", text: created.reply });
    }
    if (authToken) {
      fetchInbox();
    }
    return state.sessionId;
  }

  async function sendMessage(text) {
    var cid = uuid();
    setBusy(true);
    if (sessionPromise) {
      // Let the greeting of a session being opened come first.
      await sessionPromise.catch(function () { return null; });
    }
    addEntry({ role: "user", text: text, cid: cid });
    state.pending = { text: text, cid: cid };
    save();
    await deliver(text, cid);
  }

  async function deliver(text, cid) {
    setBusy(true);
    try {
      var answer = await withRetry(function () { return turn(text, cid); });
      applyAnswer(answer);
    } catch (err) {
      if (err instanceof Failure && err.kind === "session") {
        state.sessionId = null;
        state.handoff = false;
        stopPolling();
      }
      if (!(err && err.shown)) {
        addEntry({ role: "notice", text: (err && err.message) || TEXT.failed });
      }
    } finally {
      state.pending = null;
      save();
      removeDraft();
      setBusy(false);
    }
  }

  // One attempt at a turn over the streaming endpoint; the same cid makes retries safe.
  async function turn(text, cid) {
    removeDraft();
    var sessionId = await ensureSession();
    var controller = new AbortController();
    var idle = window.setTimeout(function () { controller.abort(); }, STREAM_IDLE_MS);
    try {
      var response = await postJson(
        "/api/sessions/" + encodeURIComponent(sessionId) + "/messages/stream",
        { text: text, client_message_id: cid },
        controller.signal
      );
      var type = response.headers.get("Content-Type") || "";
      if (type.indexOf("text/event-stream") < 0) {
        return await response.json();
      }
      return await readEvents(response, function () {
        window.clearTimeout(idle);
        idle = window.setTimeout(function () { controller.abort(); }, STREAM_IDLE_MS);
      });
    } catch (err) {
      if (err instanceof Failure) {
        throw err;
      }
      throw new Failure("retry", "");
    } finally {
      window.clearTimeout(idle);
    }
  }

  async function readEvents(response, onProgress) {
    var reader = response.body.getReader();
    var decoder = new TextDecoder();
    var buffer = "";
    var final = null;
    for (;;) {
      var chunk = await reader.read();
      if (chunk.done) {
        break;
      }
      onProgress();
      buffer += decoder.decode(chunk.value, { stream: true });
      // Keep a trailing "\r" until we know whether "\n" follows it.
      var keep = buffer.slice(-1) === "\r" ? "\r" : "";
      var text = (keep ? buffer.slice(0, -1) : buffer).replace(/\r\n?/g, "\n");
      var blocks = text.split("\n\n");
      buffer = blocks.pop() + keep;
      blocks.forEach(function (block) {
        var event = parseEvent(block);
        if (event && event.name === "sentence") {
          showDraftSentence(event.data && event.data.text);
        } else if (event && event.name === "final") {
          final = event.data;
        }
      });
    }
    if (!final || typeof final !== "object") {
      throw new Failure("retry", "");
    }
    return final;
  }

  function parseEvent(block) {
    var name = "message";
    var data = [];
    block.split("\n").forEach(function (line) {
      if (!line || line.charAt(0) === ":") {
        return;
      }
      var colon = line.indexOf(":");
      var field = colon < 0 ? line : line.slice(0, colon);
      var value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "event") {
        name = value;
      } else if (field === "data") {
        data.push(value);
      }
    });
    if (!data.length) {
      return null;
    }
    try {
      return { name: name, data: JSON.parse(data.join("\n")) };
    } catch (err) {
      return null;
    }
  }

  // The streamed bubble is a draft: the final answer replaces it (and is what is kept).
  function showDraftSentence(sentence) {
    if (typeof sentence !== "string" || !sentence) {
      return;
    }
    if (!ui.draft) {
      ui.draft = renderEntry({ role: "bot", text: "" });
      ui.draft.classList.add("santun-msg--draft");
      ui.log.appendChild(ui.draft);
    }
    var node = ui.draft.querySelector(".santun-text");
    node.textContent = node.textContent ? node.textContent + " " + sentence : sentence;
    ui.typing.hidden = true;
    scrollToEnd();
  }

  function removeDraft() {
    if (ui.draft) {
      ui.draft.remove();
      ui.draft = null;
    }
  }

  // ---- messages from a human agent after a handoff ----

  function startPolling() {
    if (pollTimer === null && !pollStopped) {
      pollTimer = window.setTimeout(poll, POLL_MS);
    }
  }

  function stopPolling() {
    if (pollTimer !== null) {
      window.clearTimeout(pollTimer);
      pollTimer = null;
    }
  }

  async function poll() {
    pollTimer = null;
    if (!state.handoff || !state.sessionId) {
      return;
    }
    try {
      var response = await window.fetch(
        API + "/api/sessions/" + encodeURIComponent(state.sessionId) +
          "/messages?after=" + encodeURIComponent(String(state.lastSeq || 0)),
        { headers: { "Accept": "application/json" }, credentials: "omit" }
      );
      if (response.status === 404 || response.status === 405) {
        pollStopped = true; // this server has no message feed: stop quietly
        return;
      }
      if (response.ok) {
        showAgentMessages(await response.json());
      }
    } catch (err) {
      // A dropped poll is retried on the next tick.
    }
    if (state.handoff) {
      startPolling();
    }
  }

  function showAgentMessages(body) {
    var messages = body && Array.isArray(body.messages) ? body.messages : [];
    messages.forEach(function (message) {
      var seq = Number(message.seq);
      if (!isFinite(seq)) {
        return;
      }
      state.lastSeq = Math.max(state.lastSeq || 0, seq);
      if (message.role !== "agent" || state.shownSeqs.indexOf(seq) >= 0 || !message.text) {
        return;
      }
      state.shownSeqs.push(seq);
      addEntry({ role: "agent", text: String(message.text), seq: seq });
      if (ui.panel.hidden) {
        ui.launcher.classList.add("santun-launcher--unread");
        ui.launcher.setAttribute("aria-label", TEXT.launcherUnread);
      }
    });
    save();
  }

  // ---- start ----

  function start() {
    addStylesheet();
    build();
    renderAll();
    if (state.open) {
      openPanel();
    }
    if (state.pending && state.pending.cid) {
      // The page was reloaded while a message was on its way: finish it with the same id.
      deliver(state.pending.text, state.pending.cid);
    }
    if (state.handoff) {
      startPolling();
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
