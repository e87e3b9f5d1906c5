/*
 * The content admin (/admin): check an uploaded catalogue (errors by line, differences with
 * the live one), publish it and follow the build, versions and rollback, aliases, the review
 * queue and the audit log. Text only, never HTML.
 */
(function () {
  "use strict";

  var S = window.HKStaff;
  var t = S.t;
  var el = S.el;
  var POLL_MS = 1000;

  var STRINGS = {
    en: {
      pageTitle: "Catalogue admin – HK government forms assistant",
      brand: "Catalogue admin",
      sections: "Sections",
      navCatalogue: "Catalogue",
      navPublish: "Publishing",
      navVersions: "Versions",
      navAliases: "Aliases",
      navReview: "Review queue",
      navAudit: "Audit log",
      catalogueTitle: "Catalogue",
      download: "Download the live catalogue (JSONL)",
      uploadLabel: "Catalogue file to check (JSONL or CSV)",
      check: "Check the file",
      checking: "Checking the file…",
      chooseFile: "Choose a file first.",
      uploadNote: "Checking never changes what citizens see. You publish in a second step.",
      reportTitle: "Check result",
      valid: "The file is valid: {n} entries; {a} added, {r} removed, {c} changed. Nothing is published yet.",
      invalid: "{n} problems found in the file; nothing was published. Fix them and check the file again.",
      errorsCaption: "Problems, by line of the file",
      colLine: "Line",
      colField: "Field",
      colProblem: "Problem",
      lineN: "Line {n}",
      warnings: "{n} warnings (entries without a Chinese title: Chinese users will see the English one)",
      added: "Added ({n})",
      removed: "Removed ({n})",
      changed: "Changed ({n})",
      publish: "Publish this catalogue",
      publishTitle: "Publishing",
      noJob: "No publish in progress.",
      jobLabel: "Publishing ({stage})",
      jobLabelAlias: "Alias change ({stage})",
      stage_queued: "waiting",
      "stage_loading model": "loading the model",
      stage_embedding: "embedding changed entries",
      stage_writing: "writing the new version",
      "stage_quality gate": "quality gate",
      stage_switching: "switching",
      stage_done: "done",
      stage_failed: "failed",
      jobStarted: "Publishing started.",
      jobDone: "Published: version {version} is live.",
      jobFailed: "Not published; the live version is unchanged.",
      qualityCaption: "Regression queries: new version against the live one",
      colMeasure: "Measure",
      colNew: "New",
      colLive: "Live",
      versionsTitle: "Versions",
      versionsCaption: "Index versions, newest first; roll back to any earlier one",
      colVersion: "Version",
      colCreated: "Created",
      colBy: "By",
      colEntries: "Entries",
      colQuality: "Quality (Recall@5 / MRR)",
      colState: "State",
      colAction: "Action",
      live: "Live",
      rollback: "Roll back",
      rollbackTo: "to version {version}",
      rolledBack: "Version {version} is live again.",
      aliasesTitle: "Aliases",
      aliasesNote: "Words citizens use for an entry. Each change publishes a new version through the quality gate.",
      findEntry: "Find the entry",
      find: "Find",
      choose: "Choose",
      entryId: "Entry id",
      showAliases: "Show its aliases",
      aliasTerm: "Alias",
      addAlias: "Add the alias",
      aliasesOf: "Aliases of {title}",
      inCatalogue: "In the catalogue row",
      colloquial: "Added by staff or from the alias list",
      noAliases: "None.",
      removeAlias: "Remove",
      aliasNamed: "the alias {term}",
      aliasQueued: "Publishing the alias change…",
      fromReview: "This alias will also clear the review row “{query}”.",
      reviewTitle: "Review queue",
      reviewNote:
        "Questions that failed in the last 30 days (no result, “didn't help”, handed over to 1823), most frequent first. Personal data is redacted.",
      reviewCaption: "Failed questions",
      colQuestion: "Question",
      colTimes: "Times",
      colWhy: "Why",
      colShown: "Results shown",
      reason_no_result: "no result",
      reason_didnt_help: "didn't help",
      reason_handed_over: "handed over",
      nothingShown: "none",
      addAliasFromRow: "Add an alias",
      forQuery: "for “{query}”",
      dismiss: "Dismiss",
      reviewEmpty: "Nothing to review.",
      reviewCount: "{n} questions to review.",
      refresh: "Refresh",
      auditTitle: "Audit log",
      auditCaption: "Who changed what, when (newest first)",
      colWhen: "When",
      colWho: "Who",
      colWhat: "What",
      colTarget: "Target",
      colDetails: "Details",
      action_login: "logged in",
      action_logout: "logged out",
      action_login_failed: "failed login",
      action_user_add: "account added",
      action_user_disable: "account disabled",
      action_user_enable: "account enabled",
      action_user_passwd: "password changed",
      action_catalogue_upload: "catalogue checked",
      action_publish_requested: "publish started",
      action_publish_done: "published",
      action_publish_failed: "publish failed",
      action_rollback: "rolled back",
      action_alias_add: "alias added",
      action_alias_remove: "alias removed",
      action_review_dismiss: "review row dismissed",
      action_handoff_taken: "case taken",
      action_handoff_closed: "case closed",
      action_handoff_open: "case reopened",
    },
    zh: {
      pageTitle: "目錄管理 – 香港政府表格助理",
      brand: "目錄管理",
      sections: "部分",
      navCatalogue: "目錄",
      navPublish: "發布",
      navVersions: "版本",
      navAliases: "別名",
      navReview: "待檢討問題",
      navAudit: "審計紀錄",
      catalogueTitle: "目錄",
      download: "下載現行目錄（JSONL）",
      uploadLabel: "要檢查的目錄檔案（JSONL 或 CSV）",
      check: "檢查檔案",
      checking: "正在檢查檔案…",
      chooseFile: "請先選擇檔案。",
      uploadNote: "檢查不會改變市民看到的內容。發布是另一步驟。",
      reportTitle: "檢查結果",
      valid: "檔案正確：共 {n} 項；新增 {a} 項、刪除 {r} 項、修改 {c} 項。尚未發布。",
      invalid: "檔案有 {n} 個問題，沒有發布。請修正後再檢查。",
      errorsCaption: "問題（按檔案行數）",
      colLine: "行",
      colField: "欄位",
      colProblem: "問題",
      lineN: "第 {n} 行",
      warnings: "{n} 個提示（沒有中文名稱的項目：中文使用者會看到英文名稱）",
      added: "新增（{n}）",
      removed: "刪除（{n}）",
      changed: "修改（{n}）",
      publish: "發布此目錄",
      publishTitle: "發布",
      noJob: "現時沒有發布工作。",
      jobLabel: "發布中（{stage}）",
      jobLabelAlias: "更改別名（{stage}）",
      stage_queued: "等候中",
      "stage_loading model": "載入模型",
      stage_embedding: "處理已更改的項目",
      stage_writing: "寫入新版本",
      "stage_quality gate": "質素檢查",
      stage_switching: "切換中",
      stage_done: "完成",
      stage_failed: "失敗",
      jobStarted: "已開始發布。",
      jobDone: "已發布：版本 {version} 現已生效。",
      jobFailed: "沒有發布；現行版本不變。",
      qualityCaption: "回歸測試問題：新版本與現行版本比較",
      colMeasure: "指標",
      colNew: "新版本",
      colLive: "現行版本",
      versionsTitle: "版本",
      versionsCaption: "索引版本（最新在先）；可還原至任何較早版本",
      colVersion: "版本",
      colCreated: "建立時間",
      colBy: "建立者",
      colEntries: "項目數",
      colQuality: "質素（Recall@5 / MRR）",
      colState: "狀態",
      colAction: "操作",
      live: "現行",
      rollback: "還原",
      rollbackTo: "至版本 {version}",
      rolledBack: "版本 {version} 已重新生效。",
      aliasesTitle: "別名",
      aliasesNote: "市民對某項目的叫法。每次更改都會經質素檢查後發布新版本。",
      findEntry: "尋找項目",
      find: "尋找",
      choose: "選擇",
      entryId: "項目編號",
      showAliases: "顯示別名",
      aliasTerm: "別名",
      addAlias: "加入別名",
      aliasesOf: "{title} 的別名",
      inCatalogue: "目錄內的別名",
      colloquial: "職員加入或別名清單內的別名",
      noAliases: "沒有。",
      removeAlias: "刪除",
      aliasNamed: "別名 {term}",
      aliasQueued: "正在發布別名更改…",
      fromReview: "加入此別名亦會處理待檢討問題「{query}」。",
      reviewTitle: "待檢討問題",
      reviewNote: "過去 30 天未能解答的問題（沒有結果、「沒有幫助」、轉介 1823），最常見在先。個人資料已遮蓋。",
      reviewCaption: "未能解答的問題",
      colQuestion: "問題",
      colTimes: "次數",
      colWhy: "原因",
      colShown: "曾顯示的結果",
      reason_no_result: "沒有結果",
      reason_didnt_help: "沒有幫助",
      reason_handed_over: "轉介真人",
      nothingShown: "沒有",
      addAliasFromRow: "加入別名",
      forQuery: "：「{query}」",
      dismiss: "略過",
      reviewEmpty: "沒有待檢討的問題。",
      reviewCount: "{n} 個待檢討問題。",
      refresh: "重新整理",
      auditTitle: "審計紀錄",
      auditCaption: "誰在何時更改了甚麼（最新在先）",
      colWhen: "時間",
      colWho: "職員",
      colWhat: "動作",
      colTarget: "對象",
      colDetails: "詳情",
      action_login: "登入",
      action_logout: "登出",
      action_login_failed: "登入失敗",
      action_user_add: "新增帳戶",
      action_user_disable: "停用帳戶",
      action_user_enable: "啟用帳戶",
      action_user_passwd: "更改密碼",
      action_catalogue_upload: "檢查目錄",
      action_publish_requested: "開始發布",
      action_publish_done: "已發布",
      action_publish_failed: "發布失敗",
      action_rollback: "還原版本",
      action_alias_add: "加入別名",
      action_alias_remove: "刪除別名",
      action_review_dismiss: "略過待檢討問題",
      action_handoff_taken: "接手個案",
      action_handoff_closed: "完成個案",
      action_handoff_open: "重開個案",
    },
  };

  var byId = function (id) {
    return document.getElementById(id);
  };
  var state = {
    upload: null,
    job: null,
    jobTimer: null,
    lastJobState: null,
    versions: null,
    review: [],
    audit: [],
    aliasInfo: null,
    aliasResults: [],
    reviewKey: null,
    reviewQuery: null,
  };

  function fmt(x) {
    return typeof x === "number" ? x.toFixed(3) : "–";
  }

  function table(caption, headers, rows) {
    var wrap = el("div", { className: "table-wrap" });
    var tbl = el("table");
    tbl.appendChild(el("caption", null, caption));
    var head = el("thead");
    var tr = el("tr");
    headers.forEach(function (h) {
      tr.appendChild(el("th", { scope: "col" }, h));
    });
    head.appendChild(tr);
    tbl.appendChild(head);
    var body = el("tbody");
    rows.forEach(function (cells) {
      var row = el("tr");
      cells.forEach(function (cell, i) {
        row.appendChild(el(i === 0 ? "th" : "td", i === 0 ? { scope: "row" } : null, cell));
      });
      body.appendChild(row);
    });
    tbl.appendChild(body);
    wrap.appendChild(tbl);
    return wrap;
  }

  // ---- upload and report --------------------------------------------------------------------
  function upload(event) {
    event.preventDefault();
    var input = byId("upload-file");
    var status = byId("report-status");
    if (!input.files || !input.files.length) {
      byId("report").hidden = false;
      S.announce(status, t("chooseFile"));
      input.focus();
      return;
    }
    var data = new FormData();
    data.append("file", input.files[0], input.files[0].name);
    var button = byId("upload-form").querySelector("button[type=submit]");
    button.disabled = true;
    byId("report").hidden = false;
    S.clear(byId("report-errors"));
    S.clear(byId("report-diff"));
    byId("publish").hidden = true;
    status.className = "";
    S.announce(status, t("checking"));
    S.api("POST", "/api/admin/catalogue", data)
      .then(
        function (result) {
          state.upload = result;
          renderReport();
          byId("report-title").focus();
          loadAudit();
        },
        function (err) {
          S.announce(status, S.errorText(err));
        }
      )
      .then(function () {
        button.disabled = false;
      });
  }

  function diffList(titleKey, items, describe) {
    var box = el("div");
    box.appendChild(el("h4", null, t(titleKey, { n: items.length })));
    if (items.length) {
      var list = el("ul", { className: "diff-list" });
      items.slice(0, 200).forEach(function (item) {
        list.appendChild(el("li", null, describe(item)));
      });
      if (items.length > 200) {
        list.appendChild(el("li", null, "… +" + (items.length - 200)));
      }
      box.appendChild(list);
    }
    return box;
  }

  function entryLabel(item) {
    var parts = [item.id];
    if (item.form_no) {
      parts.push(item.form_no);
    }
    parts.push(item.title_en);
    if (item.title_zh) {
      parts.push(item.title_zh);
    }
    return parts.join(" · ");
  }

  function renderReport() {
    var result = state.upload;
    if (!result) {
      return;
    }
    var status = byId("report-status");
    var errors = byId("report-errors");
    var diffBox = byId("report-diff");
    S.clear(errors);
    S.clear(diffBox);
    if (!result.valid) {
      status.className = "error";
      status.textContent = t("invalid", { n: result.errors.length });
      errors.appendChild(
        table(
          t("errorsCaption"),
          [t("colLine"), t("colField"), t("colProblem")],
          result.errors.map(function (e) {
            return [t("lineN", { n: e.line }), e.field, e.message];
          })
        )
      );
      byId("publish").hidden = true;
      return;
    }
    var d = result.diff;
    status.className = "ok";
    status.textContent = t("valid", {
      n: result.entries,
      a: d.added.length,
      r: d.removed.length,
      c: d.changed.length,
    });
    if (result.warnings && result.warnings.length) {
      var details = el("details");
      details.appendChild(el("summary", null, t("warnings", { n: result.warnings.length })));
      var list = el("ul");
      result.warnings.forEach(function (w) {
        list.appendChild(el("li", null, t("lineN", { n: w.line }) + ": " + w.message));
      });
      details.appendChild(list);
      errors.appendChild(details);
    }
    diffBox.appendChild(diffList("added", d.added, entryLabel));
    diffBox.appendChild(diffList("removed", d.removed, entryLabel));
    diffBox.appendChild(
      diffList("changed", d.changed, function (item) {
        var changes = item.fields.map(function (f) {
          return f.field + ": “" + f.old + "” → “" + f.new + "”";
        });
        return entryLabel(item) + " — " + changes.join("; ");
      })
    );
    byId("publish").hidden = false;
  }

  function publish() {
    if (!state.upload || !state.upload.valid) {
      return;
    }
    var button = byId("publish");
    button.disabled = true;
    S.api("POST", "/api/admin/publish", { upload_id: state.upload.upload_id }).then(
      function (data) {
        button.hidden = true;
        button.disabled = false;
        watchJob(data.job_id, true);
      },
      function (err) {
        button.disabled = false;
        S.announce(byId("report-status"), S.errorText(err));
      }
    );
  }

  // ---- jobs ---------------------------------------------------------------------------------------
  function watchJob(jobId, focus) {
    window.clearTimeout(state.jobTimer);
    state.lastJobState = null;
    byId("job-none").hidden = true;
    byId("job").hidden = false;
    byId("job-error").textContent = "";
    S.clear(byId("job-quality"));
    if (focus) {
      byId("publish-title").focus();
    }
    pollJob(jobId);
  }

  function pollJob(jobId) {
    S.api("GET", "/api/admin/jobs/" + encodeURIComponent(jobId)).then(
      function (job) {
        state.job = job;
        renderJob();
        if (job.state === "queued" || job.state === "running") {
          state.jobTimer = window.setTimeout(function () {
            pollJob(jobId);
          }, POLL_MS);
        } else {
          loadVersions();
          loadAudit();
          if (state.aliasInfo) {
            showAliases(state.aliasInfo.entry_id);
          }
        }
      },
      function (err) {
        byId("job-status").textContent = S.errorText(err);
        state.jobTimer = window.setTimeout(function () {
          pollJob(jobId);
        }, POLL_MS * 3);
      }
    );
  }

  function renderJob() {
    var job = state.job;
    if (!job) {
      return;
    }
    var stage = t("stage_" + job.stage);
    byId("job-label").textContent = t(job.kind === "alias" ? "jobLabelAlias" : "jobLabel", {
      stage: stage,
    });
    var bar = byId("job-progress");
    bar.value = job.progress;
    bar.textContent = Math.round(job.progress * 100) + "%";
    var changed = job.state !== state.lastJobState;
    state.lastJobState = job.state;
    var status = byId("job-status");
    if (job.state === "done") {
      status.className = "ok";
      if (changed) {
        S.announce(status, t("jobDone", { version: job.version }));
      } else {
        status.textContent = t("jobDone", { version: job.version });
      }
    } else if (job.state === "failed") {
      status.className = "error";
      status.textContent = t("jobFailed");
      byId("job-error").textContent = job.error || "";
    } else {
      status.className = "";
      if (changed) {
        S.announce(status, t("jobStarted"));
      }
    }
    var quality = byId("job-quality");
    S.clear(quality);
    var q = job.quality;
    if (q && q.new) {
      var live = q.live || {};
      quality.appendChild(
        table(
          t("qualityCaption"),
          [t("colMeasure"), t("colNew"), t("colLive")],
          [
            ["Recall@1", fmt(q.new["recall@1"]), fmt(live["recall@1"])],
            ["Recall@5", fmt(q.new["recall@5"]), fmt(live["recall@5"])],
            ["MRR", fmt(q.new.mrr), fmt(live.mrr)],
          ]
        )
      );
    }
  }

  function loadLatestJob() {
    S.api("GET", "/api/admin/jobs?limit=1").then(function (data) {
      var job = data.jobs && data.jobs[0];
      if (job && (job.state === "queued" || job.state === "running")) {
        watchJob(job.job_id, false);
      }
    });
  }

  // ---- versions ------------------------------------------------------------------------------------
  function loadVersions() {
    S.api("GET", "/api/admin/versions").then(
      function (data) {
        state.versions = data;
        renderVersions();
      },
      function (err) {
        byId("versions-status").textContent = S.errorText(err);
      }
    );
  }

  function renderVersions() {
    var body = byId("versions-body");
    S.clear(body);
    if (!state.versions) {
      return;
    }
    state.versions.versions.forEach(function (v) {
      var row = el("tr", v.current ? { className: "selected" } : null);
      row.appendChild(el("th", { scope: "row" }, v.version));
      row.appendChild(el("td", null, S.formatTime(v.created)));
      row.appendChild(el("td", null, v.created_by || ""));
      row.appendChild(el("td", null, v.entries === null ? "" : String(v.entries)));
      var q = v.quality && v.quality.new;
      row.appendChild(el("td", null, q ? fmt(q["recall@5"]) + " / " + fmt(q.mrr) : "–"));
      row.appendChild(el("td", null, v.current ? t("live") : ""));
      var cell = el("td");
      if (!v.current) {
        var button = S.button(t("rollback"), " " + t("rollbackTo", { version: v.version }));
        button.addEventListener("click", function () {
          rollback(v.version);
        });
        cell.appendChild(button);
      }
      row.appendChild(cell);
      body.appendChild(row);
    });
  }

  function rollback(version) {
    var status = byId("versions-status");
    S.api("POST", "/api/admin/rollback", { version: version }).then(
      function () {
        S.announce(status, t("rolledBack", { version: version }));
        loadVersions();
        loadAudit();
        byId("versions-title").focus();
      },
      function (err) {
        S.announce(status, S.errorText(err));
      }
    );
  }

  // ---- aliases -----------------------------------------------------------------------------------------
  function findEntries(event) {
    event.preventDefault();
    var q = byId("alias-query").value.trim();
    var list = byId("alias-results");
    S.clear(list);
    if (!q) {
      return;
    }
    S.api("GET", "/api/agent/search?k=5&q=" + encodeURIComponent(q)).then(
      function (data) {
        state.aliasResults = data.results || [];
        renderAliasResults();
      },
      function (err) {
        S.announce(byId("alias-status"), S.errorText(err));
      }
    );
  }

  function renderAliasResults() {
    var list = byId("alias-results");
    S.clear(list);
    state.aliasResults.forEach(function (r) {
      var title = [r.form_no, r.title_en, r.title_zh || r.title_zh_unofficial].filter(Boolean).join(" · ");
      var item = el("li", { className: "result" });
      item.appendChild(el("span", null, title + " (" + r.id + ") "));
      var button = S.button(t("choose"), " " + title);
      button.addEventListener("click", function () {
        byId("alias-entry").value = r.id;
        S.clear(list);
        showAliases(r.id);
        byId("alias-term").focus();
      });
      item.appendChild(button);
      list.appendChild(item);
    });
  }

  function showAliases(entryId) {
    var box = byId("alias-current");
    entryId = (entryId || "").trim();
    if (!entryId) {
      return;
    }
    S.api("GET", "/api/admin/aliases?entry_id=" + encodeURIComponent(entryId)).then(
      function (info) {
        state.aliasInfo = info;
        renderAliases();
      },
      function (err) {
        S.clear(box);
        state.aliasInfo = null;
        S.announce(byId("alias-status"), S.errorText(err));
      }
    );
  }

  function renderAliases() {
    var box = byId("alias-current");
    S.clear(box);
    var info = state.aliasInfo;
    if (!info) {
      return;
    }
    box.appendChild(el("h3", null, t("aliasesOf", { title: info.entry_id + " · " + info.title_en })));
    [
      ["inCatalogue", info.catalogue],
      ["colloquial", info.colloquial],
    ].forEach(function (group) {
      box.appendChild(el("h4", null, t(group[0])));
      var list = el("ul");
      if (!group[1].length) {
        list.appendChild(el("li", null, t("noAliases")));
      }
      group[1].forEach(function (term) {
        var item = el("li");
        item.appendChild(el("span", null, term + " "));
        var button = S.button(t("removeAlias"), " " + t("aliasNamed", { term: term }), "danger small");
        button.addEventListener("click", function () {
          editAlias(info.entry_id, term, "remove");
        });
        item.appendChild(button);
        list.appendChild(item);
      });
      box.appendChild(list);
    });
  }

  function editAlias(entryId, term, action) {
    var status = byId("alias-status");
    var body = { entry_id: entryId, term: term, action: action };
    if (action === "add" && state.reviewKey) {
      body.review_key = state.reviewKey;
    }
    S.api("POST", "/api/admin/aliases", body).then(
      function (data) {
        S.announce(status, t("aliasQueued"));
        if (action === "add") {
          byId("alias-term").value = "";
          state.reviewKey = null;
          state.reviewQuery = null;
          renderReviewNote();
          loadReview();
        }
        watchJob(data.job_id, false);
      },
      function (err) {
        S.announce(status, S.errorText(err));
      }
    );
  }

  function renderReviewNote() {
    var status = byId("alias-status");
    status.textContent = state.reviewQuery ? t("fromReview", { query: state.reviewQuery }) : "";
  }

  // ---- review queue -------------------------------------------------------------------------------------
  function loadReview() {
    S.api("GET", "/api/admin/review").then(
      function (data) {
        state.review = data.rows || [];
        renderReview();
      },
      function (err) {
        byId("review-status").textContent = S.errorText(err);
      }
    );
  }

  function renderReview() {
    var body = byId("review-body");
    S.clear(body);
    byId("review-status").textContent = state.review.length
      ? t("reviewCount", { n: state.review.length })
      : t("reviewEmpty");
    state.review.forEach(function (row) {
      var tr = el("tr");
      tr.appendChild(el("th", { scope: "row" }, row.query));
      tr.appendChild(el("td", null, String(row.count)));
      var why = Object.keys(row.reasons)
        .filter(function (k) {
          return row.reasons[k] > 0;
        })
        .map(function (k) {
          return t("reason_" + k) + " ×" + row.reasons[k];
        });
      tr.appendChild(el("td", null, why.join(", ")));
      var shown = el("td");
      if (!row.results_shown.length) {
        shown.textContent = t("nothingShown");
      } else {
        var list = el("ul");
        row.results_shown.forEach(function (r) {
          list.appendChild(
            el("li", null, [r.title_en, r.title_zh].filter(Boolean).join(" · ") + " (" + r.id + ") ×" + r.times)
          );
        });
        shown.appendChild(list);
      }
      tr.appendChild(shown);
      var actions = el("td");
      var box = el("div", { className: "actions" });
      var add = S.button(t("addAliasFromRow"), " " + t("forQuery", { query: row.query }), "small");
      add.addEventListener("click", function () {
        state.reviewKey = row.key;
        state.reviewQuery = row.query;
        byId("alias-term").value = row.query;
        renderReviewNote();
        var find = byId("alias-query");
        find.scrollIntoView({ block: "center" });
        find.focus();
      });
      var dismiss = S.button(t("dismiss"), " " + t("forQuery", { query: row.query }));
      dismiss.addEventListener("click", function () {
        S.api("POST", "/api/admin/review/dismiss", { key: row.key }).then(function () {
          loadReview();
          loadAudit();
          byId("review-title").focus();
        });
      });
      box.appendChild(add);
      box.appendChild(dismiss);
      actions.appendChild(box);
      tr.appendChild(actions);
      body.appendChild(tr);
    });
  }

  // ---- audit log -------------------------------------------------------------------------------------------
  function loadAudit() {
    S.api("GET", "/api/admin/audit?limit=100").then(function (data) {
      state.audit = data.entries || [];
      renderAudit();
    });
  }

  function renderAudit() {
    var body = byId("audit-body");
    S.clear(body);
    state.audit.forEach(function (e) {
      var tr = el("tr");
      tr.appendChild(el("th", { scope: "row" }, S.formatTime(e.at)));
      tr.appendChild(el("td", null, e.actor));
      tr.appendChild(el("td", null, t("action_" + e.action)));
      tr.appendChild(el("td", null, e.target));
      var details = Object.keys(e.details || {}).map(function (k) {
        var value = e.details[k];
        return k + ": " + (typeof value === "object" ? JSON.stringify(value) : String(value));
      });
      tr.appendChild(el("td", null, details.join("; ")));
      body.appendChild(tr);
    });
  }

  // ---- wiring ---------------------------------------------------------------------------------------------------
  function onLogin() {
    loadVersions();
    loadReview();
    loadAudit();
    loadLatestJob();
  }

  function onLanguage() {
    renderReport();
    renderJob();
    renderVersions();
    renderAliasResults();
    renderAliases();
    renderReviewNote();
    renderReview();
    renderAudit();
  }

  document.addEventListener("DOMContentLoaded", function () {
    byId("upload-form").addEventListener("submit", upload);
    byId("publish").addEventListener("click", publish);
    byId("alias-find").addEventListener("submit", findEntries);
    byId("alias-show").addEventListener("click", function () {
      showAliases(byId("alias-entry").value);
    });
    byId("alias-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var entry = byId("alias-entry").value.trim();
      var term = byId("alias-term").value.trim();
      if (!entry || !term) {
        S.announce(byId("alias-status"), t("entryId") + " / " + t("aliasTerm") + " ?");
        return;
      }
      editAlias(entry, term, "add");
    });
    byId("review-refresh").addEventListener("click", loadReview);
    byId("audit-refresh").addEventListener("click", loadAudit);
    S.start({
      title: "pageTitle",
      strings: STRINGS,
      roles: ["admin"],
      onLogin: onLogin,
      onLanguage: onLanguage,
    });
  });
})();
