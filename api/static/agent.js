/*
 * The 1823 agent console (/agent): search as you type with filters, results with copy
 * buttons, form details, and the handoff queue with transcripts. Text only, never HTML.
 */
(function () {
  "use strict";

  var S = window.HKStaff;
  var t = S.t;
  var el = S.el;
  var DEBOUNCE_MS = 200;
  var QUEUE_REFRESH_MS = 30000;

  var STRINGS = {
    en: {
      pageTitle: "1823 agent console – HK government forms assistant",
      brand: "1823 agent console",
      searchTitle: "Find a form or e-service",
      queryLabel: "What does the caller need? (any language)",
      queryPlaceholder: "e.g. renew passport, 生果金, IR56B",
      department: "Department",
      allDepartments: "All departments",
      topic: "Topic",
      allTopics: "All topics",
      kind: "Type",
      allKinds: "Forms and e-services",
      kindForm: "Forms only",
      kindEservice: "E-services only",
      results: "{n} results",
      oneResult: "1 result",
      noResults: "No results. Try other words or fewer filters.",
      typeToSearch: "Type to search, or choose a department or topic to list its forms.",
      copyLink: "Copy link",
      copyNumber: "Copy form number",
      details: "Details",
      about: "of {title}",
      detailsTitle: "Form details",
      closeDetails: "Close the details",
      fieldNo: "Form number",
      fieldKind: "Type",
      fieldTitleEn: "English title",
      fieldTitleZh: "Chinese title",
      fieldDept: "Department",
      fieldTopic: "Topic",
      fieldDescEn: "Description (English)",
      fieldDescZh: "Description (Chinese)",
      fieldUrl: "Official page",
      fieldAliases: "Also known as",
      none: "—",
      queueTitle: "Handoff queue",
      show: "Show",
      filterActive: "Open and taken",
      filterOpen: "Open",
      filterTaken: "Taken",
      filterClosed: "Closed",
      filterAll: "All",
      refresh: "Refresh",
      queueCaption: "Conversations handed over to 1823, newest first",
      colReference: "Reference",
      colReceived: "Received",
      colLanguage: "Language",
      colReason: "Reason",
      colStatus: "Status",
      colAgent: "Agent",
      colAction: "Action",
      open: "Open",
      caseRef: "case {ref}",
      queueEmpty: "No cases to show.",
      queueCount: "{open} open, {taken} taken, {closed} closed.",
      status_open: "Open",
      status_taken: "Taken",
      status_closed: "Closed",
      reason_requested: "Asked for a person",
      reason_repeated_failure: "The assistant could not help",
      lang_en: "English",
      "lang_zh-Hant": "Chinese (Traditional)",
      "lang_zh-Hans": "Chinese (Simplified)",
      caseTitle: "Case {ref}",
      searchesTitle: "What the citizen searched for",
      transcriptTitle: "Transcript",
      noSearches: "No searches.",
      citizen: "Citizen",
      assistant: "Assistant",
      take: "Take this case",
      closeCase: "Close this case",
      reopen: "Put back in the queue",
      nowStatus: "Case {ref} is now {status}.",
    },
    zh: {
      pageTitle: "1823 職員控制台 – 香港政府表格助理",
      brand: "1823 職員控制台",
      searchTitle: "搜尋表格或網上服務",
      queryLabel: "來電者需要甚麼？（任何語言）",
      queryPlaceholder: "例如：續領護照、生果金、IR56B",
      department: "部門",
      allDepartments: "所有部門",
      topic: "主題",
      allTopics: "所有主題",
      kind: "類別",
      allKinds: "表格及網上服務",
      kindForm: "只限表格",
      kindEservice: "只限網上服務",
      results: "{n} 項結果",
      oneResult: "1 項結果",
      noResults: "沒有結果。請試用其他字詞或減少篩選。",
      typeToSearch: "輸入字詞搜尋，或選擇部門或主題列出其表格。",
      copyLink: "複製連結",
      copyNumber: "複製表格編號",
      details: "詳情",
      about: "：{title}",
      detailsTitle: "表格詳情",
      closeDetails: "關閉詳情",
      fieldNo: "表格編號",
      fieldKind: "類別",
      fieldTitleEn: "英文名稱",
      fieldTitleZh: "中文名稱",
      fieldDept: "部門",
      fieldTopic: "主題",
      fieldDescEn: "說明（英文）",
      fieldDescZh: "說明（中文）",
      fieldUrl: "官方網頁",
      fieldAliases: "其他叫法",
      none: "—",
      queueTitle: "轉介個案",
      show: "顯示",
      filterActive: "待處理及處理中",
      filterOpen: "待處理",
      filterTaken: "處理中",
      filterClosed: "已完成",
      filterAll: "全部",
      refresh: "重新整理",
      queueCaption: "轉介至 1823 的對話（最新在先）",
      colReference: "編號",
      colReceived: "收到時間",
      colLanguage: "語言",
      colReason: "原因",
      colStatus: "狀態",
      colAgent: "職員",
      colAction: "操作",
      open: "開啟",
      caseRef: "個案 {ref}",
      queueEmpty: "沒有個案。",
      queueCount: "待處理 {open} 宗，處理中 {taken} 宗，已完成 {closed} 宗。",
      status_open: "待處理",
      status_taken: "處理中",
      status_closed: "已完成",
      reason_requested: "要求與真人對話",
      reason_repeated_failure: "助理未能幫忙",
      lang_en: "英文",
      "lang_zh-Hant": "中文（繁體）",
      "lang_zh-Hans": "中文（簡體）",
      caseTitle: "個案 {ref}",
      searchesTitle: "市民搜尋過的字詞",
      transcriptTitle: "對話紀錄",
      noSearches: "沒有搜尋。",
      citizen: "市民",
      assistant: "助理",
      take: "接手此個案",
      closeCase: "完成此個案",
      reopen: "放回待處理",
      nowStatus: "個案 {ref} 現在是「{status}」。",
    },
  };

  var byId = function (id) {
    return document.getElementById(id);
  };
  var state = {
    facets: null,
    results: [],
    controller: null,
    timer: null,
    handoffs: [],
    counts: null,
    caseId: null,
    detailsId: null,
    started: false,
  };

  // ---- search -----------------------------------------------------------------------------
  function searchParams() {
    var params = new URLSearchParams();
    var q = byId("q").value.trim();
    if (q) {
      params.set("q", q);
    }
    [
      ["department", "f-department"],
      ["topic", "f-topic"],
      ["kind", "f-kind"],
    ].forEach(function (pair) {
      var value = byId(pair[1]).value;
      if (value) {
        params.set(pair[0], value);
      }
    });
    params.set("k", q ? "10" : "50");
    return params;
  }

  function runSearch() {
    var params = searchParams();
    byId("copy-status").textContent = "";
    if (!params.has("q") && !params.has("department") && !params.has("topic") && !params.has("kind")) {
      state.results = [];
      renderResults();
      S.announce(byId("search-status"), t("typeToSearch"));
      return;
    }
    if (state.controller) {
      state.controller.abort();
    }
    var controller = new AbortController();
    state.controller = controller;
    S.api("GET", "/api/agent/search?" + params.toString(), null, { signal: controller.signal }).then(
      function (data) {
        if (controller !== state.controller) {
          return;
        }
        state.results = data.results || [];
        renderResults();
        var n = state.results.length;
        S.announce(
          byId("search-status"),
          n === 0 ? t("noResults") : n === 1 ? t("oneResult") : t("results", { n: n })
        );
      },
      function (err) {
        if (err && err.name === "AbortError") {
          return;
        }
        S.announce(byId("search-status"), S.errorText(err));
      }
    );
  }

  function scheduleSearch() {
    window.clearTimeout(state.timer);
    state.timer = window.setTimeout(runSearch, DEBOUNCE_MS);
  }

  function chineseTitle(r) {
    return r.title_zh || r.title_zh_unofficial || "";
  }

  function copyButton(label, title, text) {
    var button = el("button", { type: "button", className: "secondary small" }, label);
    button.appendChild(el("span", { className: "visually-hidden" }, " " + t("about", { title: title })));
    button.addEventListener("click", function () {
      S.copyText(text).then(
        function () {
          S.announce(byId("copy-status"), t("copied", { text: text }));
        },
        function () {
          S.announce(byId("copy-status"), t("copyFailed"));
        }
      );
    });
    return button;
  }

  function link(url) {
    var safe = S.safeUrl(url);
    if (!safe) {
      return el("span", null, String(url || ""));
    }
    var a = el("a", { href: safe, target: "_blank", rel: "noopener noreferrer" }, safe);
    a.appendChild(el("span", { className: "visually-hidden" }, " " + t("opensNew")));
    return a;
  }

  function renderResults() {
    var list = byId("results");
    S.clear(list);
    state.results.forEach(function (r) {
      var item = el("li", { className: "result" });
      var meta = [r.form_no, r.kind === "e-service" ? t("eservice") : t("form")].filter(Boolean);
      item.appendChild(el("p", { className: "r-meta" }, meta.join(" · ")));
      item.appendChild(el("h3", { className: "r-title", lang: "en" }, r.title_en));
      var zh = chineseTitle(r);
      if (zh) {
        var zhLine = el("p", { className: "r-title-zh", lang: "zh-Hant-HK" }, zh);
        if (!r.title_zh) {
          zhLine.appendChild(el("span", { className: "note" }, " " + t("unofficial")));
        }
        item.appendChild(zhLine);
      }
      var dept = el("p", { className: "r-dept" });
      dept.appendChild(el("span", { lang: "en" }, r.department_en || r.department_code));
      if (r.department_zh) {
        dept.appendChild(document.createTextNode(" · "));
        dept.appendChild(el("span", { lang: "zh-Hant-HK" }, r.department_zh));
      }
      item.appendChild(dept);
      var url = el("p", { className: "r-link" });
      url.appendChild(link(r.url));
      item.appendChild(url);
      var actions = el("div", { className: "actions" });
      var title = r.form_no ? r.form_no + " " + r.title_en : r.title_en;
      actions.appendChild(copyButton(t("copyLink"), title, r.url));
      if (r.form_no) {
        actions.appendChild(copyButton(t("copyNumber"), title, r.form_no));
      }
      var more = el("button", { type: "button", className: "secondary small" }, t("details"));
      more.appendChild(el("span", { className: "visually-hidden" }, " " + t("about", { title: title })));
      more.addEventListener("click", function () {
        showDetails(r.id, more);
      });
      actions.appendChild(more);
      item.appendChild(actions);
      list.appendChild(item);
    });
  }

  // ---- details ------------------------------------------------------------------------------
  var detailsOpener = null;

  function fact(list, label, value, attrs) {
    list.appendChild(el("dt", null, label));
    var dd = el("dd", attrs || null);
    if (value instanceof Node) {
      dd.appendChild(value);
    } else {
      dd.textContent = value ? String(value) : t("none");
    }
    list.appendChild(dd);
  }

  function topicName(code) {
    var topics = (state.facets && state.facets.topics) || [];
    for (var i = 0; i < topics.length; i++) {
      if (topics[i].code === code) {
        return S.lang() === "zh" ? topics[i].name_zh : topics[i].name_en;
      }
    }
    return code;
  }

  function showDetails(id, opener) {
    detailsOpener = opener || null;
    state.detailsId = id;
    S.api("GET", "/api/agent/forms/" + encodeURIComponent(id)).then(renderDetails, function (err) {
      S.announce(byId("search-status"), S.errorText(err));
    });
  }

  function renderDetails(entry) {
    var body = byId("details-body");
    S.clear(body);
    var list = el("dl", { className: "facts" });
    fact(list, t("fieldTitleEn"), entry.title_en, { lang: "en" });
    var zh = entry.title_zh || entry.title_zh_unofficial;
    fact(list, t("fieldTitleZh"), zh ? zh + (entry.title_zh ? "" : " " + t("unofficial")) : "", {
      lang: "zh-Hant-HK",
    });
    fact(list, t("fieldNo"), entry.form_no);
    fact(list, t("fieldKind"), entry.kind === "e-service" ? t("eservice") : t("form"));
    fact(list, t("fieldDept"), [entry.department_en, entry.department_zh].filter(Boolean).join(" · "));
    fact(list, t("fieldTopic"), topicName(entry.topic));
    fact(list, t("fieldDescEn"), entry.description_en, { lang: "en" });
    fact(list, t("fieldDescZh"), entry.description_zh, { lang: "zh-Hant-HK" });
    fact(list, t("fieldUrl"), link(entry.url));
    var aliases = [].concat(entry.aliases || [], entry.colloquial_aliases || []);
    fact(list, t("fieldAliases"), aliases.filter(function (a, i) {
      return aliases.indexOf(a) === i;
    }).join(" · "));
    body.appendChild(list);
    byId("details").hidden = false;
    byId("details-title").focus();
  }

  function closeDetails() {
    byId("details").hidden = true;
    state.detailsId = null;
    if (detailsOpener && document.body.contains(detailsOpener)) {
      detailsOpener.focus();
    } else {
      byId("q").focus();
    }
  }

  // ---- facets ---------------------------------------------------------------------------------
  function fillSelect(select, items, allKey) {
    var current = select.value;
    S.clear(select);
    select.appendChild(el("option", { value: "" }, t(allKey)));
    items.forEach(function (item) {
      select.appendChild(el("option", { value: item.value }, item.label));
    });
    select.value = current;
  }

  function renderFacets() {
    if (!state.facets) {
      return;
    }
    var zh = S.lang() === "zh";
    fillSelect(
      byId("f-department"),
      state.facets.departments.map(function (d) {
        return { value: d.code, label: (zh ? d.name_zh || d.name_en : d.name_en) + " (" + d.entries + ")" };
      }),
      "allDepartments"
    );
    fillSelect(
      byId("f-topic"),
      state.facets.topics.map(function (tp) {
        return { value: tp.code, label: zh ? tp.name_zh : tp.name_en };
      }),
      "allTopics"
    );
  }

  function loadFacets() {
    S.api("GET", "/api/agent/facets").then(
      function (data) {
        state.facets = data;
        renderFacets();
      },
      function (err) {
        S.announce(byId("search-status"), S.errorText(err));
      }
    );
  }

  // ---- the handoff queue --------------------------------------------------------------------
  function loadQueue(message) {
    var which = byId("queue-filter").value;
    return S.api("GET", "/api/agent/handoffs?status=" + encodeURIComponent(which)).then(
      function (data) {
        state.handoffs = data.handoffs || [];
        state.counts = data.counts;
        renderQueue();
        var summary = state.handoffs.length ? t("queueCount", data.counts) : t("queueEmpty");
        byId("queue-status").textContent = message ? message + " " + summary : summary;
      },
      function (err) {
        byId("queue-status").textContent = S.errorText(err);
      }
    );
  }

  function renderQueue() {
    var body = byId("queue-body");
    S.clear(body);
    state.handoffs.forEach(function (h) {
      var row = el("tr", h.id === state.caseId ? { className: "selected" } : null);
      row.appendChild(el("th", { scope: "row" }, h.reference));
      row.appendChild(el("td", null, S.formatTime(h.created_at)));
      row.appendChild(el("td", null, t("lang_" + h.language)));
      row.appendChild(el("td", null, t("reason_" + h.reason)));
      row.appendChild(el("td", null, t("status_" + h.status)));
      row.appendChild(el("td", null, h.assigned_to || t("none")));
      var cell = el("td");
      var button = S.button(t("open"), " " + t("caseRef", { ref: h.reference }));
      button.addEventListener("click", function () {
        openCase(h.id);
      });
      cell.appendChild(button);
      row.appendChild(cell);
      body.appendChild(row);
    });
  }

  function findCase(id) {
    for (var i = 0; i < state.handoffs.length; i++) {
      if (state.handoffs[i].id === id) {
        return state.handoffs[i];
      }
    }
    return null;
  }

  function transcriptLang(language) {
    return language === "en" ? "en" : language === "zh-Hans" ? "zh-Hans" : "zh-Hant-HK";
  }

  function openCase(id) {
    S.api("GET", "/api/agent/handoffs/" + id).then(
      function (h) {
        state.caseId = h.id;
        renderCase(h);
        renderQueue();
        byId("case").hidden = false;
        byId("case-title").focus();
      },
      function (err) {
        byId("queue-status").textContent = S.errorText(err);
      }
    );
  }

  function renderCase(h) {
    state.currentCase = h;
    byId("case-title").textContent = t("caseTitle", { ref: h.reference });
    var facts = byId("case-facts");
    S.clear(facts);
    fact(facts, t("colReceived"), S.formatTime(h.created_at));
    fact(facts, t("colLanguage"), t("lang_" + h.language));
    fact(facts, t("colReason"), t("reason_" + h.reason));
    fact(facts, t("colStatus"), t("status_" + h.status));
    fact(facts, t("colAgent"), h.assigned_to || "");
    var searches = byId("case-searches");
    S.clear(searches);
    if (!h.searches.length) {
      searches.appendChild(el("li", null, t("noSearches")));
    }
    h.searches.forEach(function (s) {
      searches.appendChild(el("li", { lang: transcriptLang(h.language) }, s));
    });
    var transcript = byId("case-transcript");
    S.clear(transcript);
    h.transcript.forEach(function (line) {
      var who = line.role === "user" ? t("citizen") : t("assistant");
      var item = el("li", { className: line.role === "user" ? "from-user" : "from-bot" });
      item.appendChild(el("span", { className: "speaker" }, who + ": "));
      item.appendChild(el("span", { lang: transcriptLang(h.language) }, line.text));
      transcript.appendChild(item);
    });
    byId("case-take").hidden = h.status !== "open";
    byId("case-close").hidden = h.status === "closed";
    byId("case-reopen").hidden = h.status === "open";
  }

  function changeCase(status) {
    var h = state.currentCase;
    if (!h) {
      return;
    }
    S.api("POST", "/api/agent/handoffs/" + h.id, { status: status }).then(
      function (updated) {
        renderCase(updated);
        var message = t("nowStatus", { ref: updated.reference, status: t("status_" + updated.status) });
        S.announce(byId("case-status"), message);
        loadQueue();
        var next = updated.status === "closed" ? byId("case-reopen") : byId("case-close");
        if (next && !next.hidden) {
          next.focus();
        }
      },
      function (err) {
        S.announce(byId("case-status"), S.errorText(err));
        loadQueue();
      }
    );
  }

  // ---- wiring ---------------------------------------------------------------------------------
  function onLogin() {
    loadFacets();
    loadQueue();
    if (!state.started) {
      state.started = true;
      window.setInterval(function () {
        if (S.user()) {
          loadQueue();
        }
      }, QUEUE_REFRESH_MS);
    }
    runSearch();
  }

  function onLanguage() {
    renderFacets();
    renderResults();
    renderQueue();
    if (state.currentCase && !byId("case").hidden) {
      renderCase(state.currentCase);
    }
    if (state.detailsId && !byId("details").hidden) {
      S.api("GET", "/api/agent/forms/" + encodeURIComponent(state.detailsId)).then(function (entry) {
        var focused = document.activeElement;
        renderDetails(entry);
        if (focused && document.body.contains(focused)) {
          focused.focus();
        }
      });
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    byId("search-form").addEventListener("submit", function (event) {
      event.preventDefault();
      window.clearTimeout(state.timer);
      runSearch();
    });
    byId("q").addEventListener("input", scheduleSearch);
    ["f-department", "f-topic", "f-kind"].forEach(function (id) {
      byId(id).addEventListener("change", runSearch);
    });
    byId("details-close").addEventListener("click", closeDetails);
    byId("queue-filter").addEventListener("change", function () {
      loadQueue();
    });
    byId("queue-refresh").addEventListener("click", function () {
      loadQueue();
    });
    byId("case-take").addEventListener("click", function () {
      changeCase("taken");
    });
    byId("case-close").addEventListener("click", function () {
      changeCase("closed");
    });
    byId("case-reopen").addEventListener("click", function () {
      changeCase("open");
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && !byId("details").hidden) {
        closeDetails();
      }
    });
    S.start({
      title: "pageTitle",
      strings: STRINGS,
      roles: ["agent", "admin"],
      onLogin: onLogin,
      onLanguage: onLanguage,
    });
  });
})();
