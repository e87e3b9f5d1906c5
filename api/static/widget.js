/*
 * HK government forms assistant — embeddable chat widget.
 *
 *   <script src="https://ASSISTANT-HOST/static/widget.js" data-lang="zh" defer></script>
 *
 * Attributes: data-lang ("en" | "zh", the starting language), data-api (base URL of the
 * api; default: where this script was loaded from). No build step, no dependency.
 *
 * Safety: every text from the bot or the catalogue is inserted with textContent, never as
 * HTML; links are created only for https URLs. The UI lives in a shadow root so the host
 * page's styles do not leak in (and ours do not leak out).
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || window.__hkFormsWidget) {
    return;
  }
  window.__hkFormsWidget = true;

  var API = (script.getAttribute("data-api") || new URL(script.src, location.href).origin).replace(/\/+$/, "");
  var CSS_URL = new URL("widget.css", script.src).href;
  var MAX_CHARS = 1000;
  var MAX_HISTORY = 200;
  var KEY = "hkforms.v1.";
  var RETRY_DELAYS = [2, 4, 8, 15];

  var STRINGS = {
    en: {
      launcher: "Ask about government forms",
      title: "Government forms assistant",
      close: "Close the assistant",
      langGroup: "Language",
      log: "Conversation",
      inputLabel: "Your question",
      placeholder: "Type your question…",
      send: "Send",
      typing: "The assistant is typing…",
      human: "Talk to a person",
      humanText: "I want to talk to a person",
      welcome:
        "Hello! Tell me which government form or e-service you need, in English or Chinese. " +
        "For example: “renew my passport” or “生果金點申請”.",
      offline: "Can’t reach the assistant. Retrying in {s} s…",
      offlineNow: "Can’t reach the assistant. Retrying…",
      retry: "Retry now",
      busy: "Too many messages. Waiting {s} s…",
      helpful: "Helpful",
      notHelpful: "Not helpful",
      thanks: "Thank you for your feedback.",
      formNo: "Form",
      eservice: "E-service",
      translation: "Unofficial translation (not the official title):",
      you: "You",
      bot: "Assistant",
      tooLong: "Your message is too long (at most " + MAX_CHARS + " characters).",
      opens: "(opens in a new tab)",
    },
    zh: {
      launcher: "查詢政府表格",
      title: "政府表格助理",
      close: "關閉助理",
      langGroup: "語言",
      log: "對話",
      inputLabel: "你的問題",
      placeholder: "請輸入你的問題…",
      send: "傳送",
      typing: "助理正在輸入…",
      human: "與真人對話",
      humanText: "我想搵真人",
      welcome: "你好！請告訴我你需要哪一份政府表格或網上服務，中文或英文都可以。例如：「續領護照」或「生果金點申請」。",
      offline: "未能連接助理，{s} 秒後重試…",
      offlineNow: "未能連接助理，正在重試…",
      retry: "立即重試",
      busy: "訊息太多，{s} 秒後再試…",
      helpful: "有幫助",
      notHelpful: "沒有幫助",
      thanks: "謝謝你的意見。",
      formNo: "表格",
      eservice: "網上服務",
      translation: "非官方翻譯（並非官方名稱）：",
      you: "你",
      bot: "助理",
      tooLong: "訊息太長（最多 " + MAX_CHARS + " 個字）。",
      opens: "（在新分頁開啟）",
    },
  };

  // ---- storage (localStorage may be unavailable: private mode, blocked cookies) --------
  function load(name, fallback) {
    try {
      var raw = window.localStorage.getItem(KEY + name);
      return raw === null ? fallback : JSON.parse(raw);
    } catch (e) {
      return fallback;
    }
  }
  function save(name, value) {
    try {
      window.localStorage.setItem(KEY + name, JSON.stringify(value));
    } catch (e) {
      /* storage full or blocked: the conversation still works, it is just not kept */
    }
  }
  function randomId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return "w-" + Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  var state = {
    sender: load("sender", null),
    lang: load("lang", script.getAttribute("data-lang") === "zh" ? "zh" : "en"),
    history: load("history", []),
    open: load("open", false),
    pending: null, // {message, shown} while a turn is unanswered
    retryIndex: 0,
    retryTimer: null,
    countdownTimer: null,
  };
  if (typeof state.sender !== "string" || !/^w-[0-9a-f]{32}$/.test(state.sender)) {
    state.sender = randomId();
    save("sender", state.sender);
  }
  if (!Array.isArray(state.history)) {
    state.history = [];
  }
  if (state.lang !== "en" && state.lang !== "zh") {
    state.lang = "en";
  }

  function t(key) {
    return STRINGS[state.lang][key];
  }

  // ---- DOM helpers: text only ---------------------------------------------------------
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (name) {
        if (name === "className") {
          node.className = attrs[name];
        } else {
          node.setAttribute(name, attrs[name]);
        }
      });
    }
    if (text !== undefined && text !== null) {
      node.textContent = String(text);
    }
    return node;
  }
  // Icons are SVG paths built with createElementNS (emoji need fonts many systems lack).
  var ICONS = {
    chat: "M20 2H4c-1.1 0-2 .9-2 2v18l4-4h14c1.1 0 2-.9 2-2V4c0-1.1-.9-2-2-2z",
    thumb:
      "M1 21h4V9H1v12zm22-11c0-1.1-.9-2-2-2h-6.31l.95-4.57.03-.32c0-.41-.17-.79-.44-1.06L14.17 1 " +
      "7.59 7.59C7.22 7.95 7 8.45 7 9v10c0 1.1.9 2 2 2h9c.83 0 1.54-.5 1.84-1.22l3.02-7.05c.09-.23" +
      ".14-.47.14-.73v-2z",
  };
  function icon(name, flip) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "20");
    svg.setAttribute("height", "20");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    svg.setAttribute("class", "icon");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("d", ICONS[name]);
    path.setAttribute("fill", "currentColor");
    if (flip) {
      path.setAttribute("transform", "rotate(180 12 12)");
    }
    svg.appendChild(path);
    return svg;
  }
  function safeHttpsUrl(url) {
    try {
      var parsed = new URL(String(url));
      return parsed.protocol === "https:" ? parsed.href : null;
    } catch (e) {
      return null;
    }
  }

  // ---- build the UI -----------------------------------------------------------------------
  var host = el("div", { role: "complementary", "aria-label": STRINGS[state.lang].title });
  host.className = "hkforms-widget-host";
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  root.appendChild(el("link", { rel: "stylesheet", href: CSS_URL }));

  var launcher = el("button", {
    type: "button",
    className: "launcher",
    "aria-expanded": "false",
    "aria-controls": "hkf-panel",
  });
  var launcherLabel = el("span", { className: "launcher-label" });
  launcher.appendChild(icon("chat"));
  launcher.appendChild(launcherLabel);

  var panel = el("section", { id: "hkf-panel", className: "panel", "aria-labelledby": "hkf-title" });
  panel.hidden = true;

  var header = el("header", { className: "header" });
  var title = el("h2", { id: "hkf-title", className: "title" });
  var langGroup = el("div", { role: "group", className: "langs" });
  var btnEn = el("button", { type: "button", className: "lang", lang: "en" }, "English");
  var btnZh = el("button", { type: "button", className: "lang", lang: "zh-Hant" }, "繁體");
  langGroup.appendChild(btnEn);
  langGroup.appendChild(btnZh);
  var closeBtn = el("button", { type: "button", className: "close" });
  closeBtn.appendChild(el("span", { "aria-hidden": "true" }, "×"));
  header.appendChild(title);
  header.appendChild(langGroup);
  header.appendChild(closeBtn);

  var statusBar = el("div", { className: "status", role: "status", "aria-live": "polite" });
  var statusText = el("span", { className: "status-text" });
  var retryBtn = el("button", { type: "button", className: "retry" });
  statusBar.appendChild(statusText);
  statusBar.appendChild(retryBtn);
  statusBar.hidden = true;

  var log = el("div", { className: "log", role: "log", "aria-live": "polite", tabindex: "0" });
  var typing = el("div", { className: "typing", role: "status" });
  var typingDots = el("span", { className: "dots", "aria-hidden": "true" });
  typingDots.appendChild(el("span"));
  typingDots.appendChild(el("span"));
  typingDots.appendChild(el("span"));
  var typingText = el("span", { className: "visually-hidden" });
  typing.appendChild(typingDots);
  typing.appendChild(typingText);
  typing.hidden = true;

  var form = el("form", { className: "composer", novalidate: "" });
  var inputLabel = el("label", { for: "hkf-input", className: "visually-hidden" });
  var input = el("textarea", {
    id: "hkf-input",
    className: "input",
    rows: "1",
    maxlength: String(MAX_CHARS),
    autocomplete: "off",
    enterkeyhint: "send",
  });
  var sendBtn = el("button", { type: "submit", className: "send" });
  form.appendChild(inputLabel);
  form.appendChild(input);
  form.appendChild(sendBtn);

  var footer = el("div", { className: "footer" });
  var humanBtn = el("button", { type: "button", className: "human" });
  footer.appendChild(humanBtn);

  panel.appendChild(header);
  panel.appendChild(statusBar);
  panel.appendChild(log);
  panel.appendChild(typing);
  panel.appendChild(form);
  panel.appendChild(footer);
  root.appendChild(launcher);
  root.appendChild(panel);

  function applyStrings() {
    host.setAttribute("aria-label", t("title"));
    launcherLabel.textContent = t("launcher");
    title.textContent = t("title");
    langGroup.setAttribute("aria-label", t("langGroup"));
    btnEn.setAttribute("aria-pressed", String(state.lang === "en"));
    btnZh.setAttribute("aria-pressed", String(state.lang === "zh"));
    closeBtn.setAttribute("aria-label", t("close"));
    log.setAttribute("aria-label", t("log"));
    inputLabel.textContent = t("inputLabel");
    input.setAttribute("placeholder", t("placeholder"));
    sendBtn.textContent = t("send");
    typingText.textContent = t("typing");
    humanBtn.textContent = t("human");
    retryBtn.textContent = t("retry");
    panel.setAttribute("lang", state.lang === "zh" ? "zh-Hant-HK" : "en");
    launcher.setAttribute("lang", state.lang === "zh" ? "zh-Hant-HK" : "en");
  }

  // ---- rendering the conversation --------------------------------------------------------
  function renderCard(card) {
    var item = el("li", { className: "card" });
    var art = el("article", { "aria-label": String(card.title || "") });
    var meta = el("p", { className: "card-meta" });
    if (card.form_no) {
      meta.appendChild(el("span", { className: "form-no" }, t("formNo") + " " + card.form_no));
    } else if (card.kind === "e-service") {
      meta.appendChild(el("span", { className: "form-no" }, t("eservice")));
    }
    if (card.department) {
      meta.appendChild(el("span", { className: "dept" }, card.department));
    }
    art.appendChild(el("h3", { className: "card-title" }, card.title));
    if (card.title_translation) {
      var tr = el("p", { className: "card-translation" });
      tr.appendChild(el("span", { className: "translation-label" }, t("translation") + " "));
      tr.appendChild(el("span", { lang: "zh-Hant-HK" }, card.title_translation));
      art.appendChild(tr);
    }
    if (meta.childNodes.length) {
      art.appendChild(meta);
    }
    var links = (card.links || []).filter(function (link) {
      return link && safeHttpsUrl(link.url);
    });
    if (links.length) {
      var ul = el("ul", { className: "card-links" });
      links.forEach(function (link) {
        var li = el("li");
        var a = el("a", { href: safeHttpsUrl(link.url), target: "_blank", rel: "noopener noreferrer" });
        a.appendChild(document.createTextNode(String(link.label || link.url)));
        a.appendChild(el("span", { className: "visually-hidden" }, " " + t("opens")));
        li.appendChild(a);
        ul.appendChild(li);
      });
      art.appendChild(ul);
    }
    item.appendChild(art);
    return item;
  }

  function renderFeedback(entry) {
    var box = el("div", { className: "feedback", role: "group", "aria-label": t("helpful") + " / " + t("notHelpful") });
    [["good", false, "helpful"], ["bad", true, "notHelpful"]].forEach(function (spec) {
      var b = el("button", {
        type: "button",
        className: "thumb thumb-" + spec[0],
        "aria-label": t(spec[2]),
        "aria-pressed": String(entry.rating === spec[0]),
        title: t(spec[2]),
      });
      b.appendChild(icon("thumb", spec[1]));
      b.addEventListener("click", function () {
        sendFeedback(entry, spec[0], box);
      });
      box.appendChild(b);
    });
    if (entry.rating) {
      box.appendChild(el("span", { className: "thanks" }, t("thanks")));
    }
    return box;
  }

  function renderEntry(entry, isLast) {
    var wrap = el("div", { className: "msg msg-" + entry.role });
    wrap.appendChild(el("span", { className: "visually-hidden" }, (entry.role === "user" ? t("you") : t("bot")) + ": "));
    if (entry.text) {
      wrap.appendChild(el("p", { className: "bubble" }, entry.text));
    }
    if (entry.cards && entry.cards.length) {
      var list = el("ul", { className: "cards" });
      entry.cards.forEach(function (card) {
        list.appendChild(renderCard(card));
      });
      wrap.appendChild(list);
      wrap.appendChild(renderFeedback(entry));
    }
    if (isLast && entry.buttons && entry.buttons.length) {
      var replies = el("div", { className: "replies", role: "group" });
      entry.buttons.forEach(function (button) {
        var b = el("button", { type: "button", className: "reply" }, button.title);
        b.addEventListener("click", function () {
          submit(String(button.payload || button.title), String(button.title));
        });
        replies.appendChild(b);
      });
      wrap.appendChild(replies);
    }
    return wrap;
  }

  function lastBotIndex() {
    for (var i = state.history.length - 1; i >= 0; i--) {
      if (state.history[i].role === "bot") {
        return i;
      }
      if (state.history[i].role === "user") {
        return -1;
      }
    }
    return -1;
  }

  function renderAll() {
    while (log.firstChild) {
      log.removeChild(log.firstChild);
    }
    var last = lastBotIndex();
    state.history.forEach(function (entry, i) {
      log.appendChild(renderEntry(entry, i === last && !state.pending));
    });
    scrollToEnd();
  }

  function removeReplies() {
    var groups = log.querySelectorAll(".replies");
    Array.prototype.forEach.call(groups, function (g) {
      g.parentNode.removeChild(g);
    });
  }

  function append(entry) {
    state.history.push(entry);
    if (state.history.length > MAX_HISTORY) {
      state.history = state.history.slice(-MAX_HISTORY);
    }
    save("history", state.history);
    log.appendChild(renderEntry(entry, entry.role === "bot"));
    scrollToEnd();
  }

  function scrollToEnd() {
    log.scrollTop = log.scrollHeight;
  }

  // ---- talking to the api ------------------------------------------------------------------
  function setTyping(on) {
    typing.hidden = !on;
    sendBtn.disabled = on;
  }

  function clearRetry() {
    window.clearTimeout(state.retryTimer);
    window.clearInterval(state.countdownTimer);
    state.retryTimer = null;
    state.countdownTimer = null;
  }

  function showStatus(template, seconds, retryable) {
    statusBar.hidden = false;
    panel.classList.add("offline");
    retryBtn.hidden = !retryable;
    var left = seconds;
    function tick() {
      statusText.textContent = template.replace("{s}", String(left));
      left -= 1;
    }
    tick();
    window.clearInterval(state.countdownTimer);
    state.countdownTimer = window.setInterval(function () {
      if (left >= 1) {
        tick();
      }
    }, 1000);
  }

  function hideStatus() {
    clearRetry();
    statusBar.hidden = true;
    panel.classList.remove("offline");
    statusText.textContent = "";
  }

  function scheduleRetry(seconds, template) {
    clearRetry();
    showStatus(template, seconds, true);
    state.retryTimer = window.setTimeout(attempt, seconds * 1000);
  }

  function setPending(pending) {
    state.pending = pending;
    save("pending", pending);
  }

  function receive(messages) {
    var query = state.pending ? state.pending.shown : null;
    setPending(null);
    state.retryIndex = 0;
    hideStatus();
    setTyping(false);
    (messages || []).forEach(function (m) {
      append({
        role: "bot",
        text: m.text || "",
        buttons: m.buttons || [],
        cards: m.cards || [],
        query: query,
        ts: Date.now(),
      });
    });
  }

  function attempt() {
    if (!state.pending) {
      return;
    }
    clearRetry();
    setTyping(true);
    var pending = state.pending;
    fetch(API + "/api/chat", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sender: state.sender, message: pending.message, lang: state.lang }),
      credentials: "omit",
    })
      .then(function (resp) {
        return resp
          .json()
          .catch(function () {
            return {};
          })
          .then(function (body) {
            return { status: resp.status, body: body, retryAfter: resp.headers.get("Retry-After") };
          });
      })
      .then(function (r) {
        if (r.status === 200) {
          receive(r.body.messages);
        } else if (r.status === 429) {
          setTyping(false);
          scheduleRetry(Math.min(60, parseInt(r.retryAfter, 10) || 10), t("busy"));
        } else if (r.status === 413 || r.status === 422 || r.status === 400) {
          receive([{ text: r.status === 413 ? t("tooLong") : String(r.body.detail || "") }]);
        } else {
          offline();
        }
      })
      .catch(offline);
  }

  function offline() {
    setTyping(false);
    var delay = RETRY_DELAYS[Math.min(state.retryIndex, RETRY_DELAYS.length - 1)];
    state.retryIndex += 1;
    scheduleRetry(delay, t("offline"));
  }

  function submit(message, shown) {
    message = String(message || "").trim();
    if (!message || state.pending) {
      return;
    }
    if (message.length > MAX_CHARS) {
      append({ role: "bot", text: t("tooLong"), ts: Date.now() });
      return;
    }
    removeReplies();
    append({ role: "user", text: shown || message, ts: Date.now() });
    setPending({ message: message, shown: shown || message });
    attempt();
  }

  function sendFeedback(entry, rating, box) {
    entry.rating = rating;
    save("history", state.history);
    Array.prototype.forEach.call(box.querySelectorAll(".thumb"), function (b) {
      b.setAttribute("aria-pressed", String(b.classList.contains("thumb-" + rating)));
    });
    if (!box.querySelector(".thanks")) {
      box.appendChild(el("span", { className: "thanks" }, t("thanks")));
    }
    fetch(API + "/api/feedback", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        sender: state.sender,
        rating: rating,
        query: entry.query || null,
        result_ids: (entry.cards || []).map(function (c) {
          return String(c.id);
        }),
      }),
      credentials: "omit",
    }).catch(function () {
      /* feedback is best effort */
    });
  }

  // ---- open, close, language --------------------------------------------------------------
  function setOpen(open, focus) {
    state.open = open;
    save("open", open);
    panel.hidden = !open;
    launcher.hidden = open;
    launcher.setAttribute("aria-expanded", String(open));
    host.classList.toggle("is-open", open);
    if (open) {
      if (!state.history.length) {
        append({ role: "bot", text: t("welcome"), ts: Date.now() });
      }
      fitViewport();
      scrollToEnd();
      if (focus) {
        input.focus();
      }
    } else if (focus) {
      launcher.focus();
    }
  }

  function setLang(lang) {
    if (lang === state.lang) {
      return;
    }
    state.lang = lang;
    save("lang", lang);
    applyStrings();
    renderAll();
  }

  // On phones the on-screen keyboard shrinks the visual viewport: keep the panel inside it.
  function fitViewport() {
    var vv = window.visualViewport;
    if (!vv || window.innerWidth > 480) {
      panel.style.removeProperty("height");
      panel.style.removeProperty("top");
      return;
    }
    panel.style.height = Math.round(vv.height) + "px";
    panel.style.top = Math.round(vv.offsetTop) + "px";
    scrollToEnd();
  }

  launcher.addEventListener("click", function () {
    setOpen(true, true);
  });
  closeBtn.addEventListener("click", function () {
    setOpen(false, true);
  });
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      setOpen(false, true);
    }
  });
  btnEn.addEventListener("click", function () {
    setLang("en");
  });
  btnZh.addEventListener("click", function () {
    setLang("zh");
  });
  retryBtn.addEventListener("click", function () {
    state.retryIndex = 0;
    showStatus(t("offlineNow"), 0, false);
    attempt();
  });
  humanBtn.addEventListener("click", function () {
    submit(t("humanText"));
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value;
    if (!text.trim() || state.pending) {
      return;
    }
    input.value = "";
    autoGrow();
    submit(text);
  });
  function autoGrow() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 120) + "px";
  }
  input.addEventListener("input", autoGrow);
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      if (typeof form.requestSubmit === "function") {
        form.requestSubmit();
      } else {
        form.dispatchEvent(new Event("submit", { cancelable: true }));
      }
    }
  });
  if (window.visualViewport) {
    window.visualViewport.addEventListener("resize", fitViewport);
    window.visualViewport.addEventListener("scroll", fitViewport);
  }
  window.addEventListener("resize", fitViewport);

  function mount() {
    document.body.appendChild(host);
    applyStrings();
    renderAll();
    setOpen(Boolean(state.open), false);
    // A question left unanswered by a reload (or a closed tab) is sent again.
    var pending = load("pending", null);
    if (pending && typeof pending.message === "string" && pending.message) {
      state.pending = { message: pending.message, shown: String(pending.shown || pending.message) };
      attempt();
    }
  }
  if (document.body) {
    mount();
  } else {
    document.addEventListener("DOMContentLoaded", mount);
  }
})();
