/*
 * Shared code of the staff pages (/agent, /admin): strings in English and Chinese, the
 * language toggle, login and logout, calls to the staff api with the CSRF token, and
 * DOM helpers that only ever insert text (never HTML).
 *
 * window.HKStaff = { t, el, clear, api, formatTime, announce, start, copyText, safeUrl }
 * A page calls HKStaff.start({ title, strings, onLogin }) once.
 */
(function () {
  "use strict";

  var LANG_KEY = "hkforms.staff.lang";
  var STRINGS = {
    en: {
      skip: "Skip to the main content",
      langGroup: "Language",
      loginTitle: "Staff login",
      loginIntro: "Log in with your staff account.",
      username: "Username",
      password: "Password",
      login: "Log in",
      loggingIn: "Logging in…",
      logout: "Log out",
      loggedInAs: "Logged in as {name} ({role})",
      role_agent: "1823 agent",
      role_admin: "content admin",
      wrongLogin: "Wrong username or password.",
      sessionEnded: "Your session has ended. Please log in again.",
      notAllowed: "Your account cannot use this page.",
      networkError: "The server cannot be reached. Please try again.",
      failed: "Something went wrong: {detail}",
      copied: "Copied: {text}",
      copyFailed: "Could not copy. Select the text and copy it by hand.",
      loading: "Loading…",
      form: "Form",
      eservice: "E-service",
      unofficial: "(unofficial translation)",
      opensNew: "(opens in a new tab)",
    },
    zh: {
      skip: "跳至主要內容",
      langGroup: "語言",
      loginTitle: "職員登入",
      loginIntro: "請用你的職員帳戶登入。",
      username: "用戶名稱",
      password: "密碼",
      login: "登入",
      loggingIn: "正在登入…",
      logout: "登出",
      loggedInAs: "已登入：{name}（{role}）",
      role_agent: "1823 職員",
      role_admin: "內容管理員",
      wrongLogin: "用戶名稱或密碼錯誤。",
      sessionEnded: "你的登入已過期，請重新登入。",
      notAllowed: "你的帳戶不能使用此頁。",
      networkError: "未能連接伺服器，請再試。",
      failed: "發生問題：{detail}",
      copied: "已複製：{text}",
      copyFailed: "未能複製，請選取文字後自行複製。",
      loading: "載入中…",
      form: "表格",
      eservice: "網上服務",
      unofficial: "（非官方翻譯）",
      opensNew: "（在新分頁開啟）",
    },
  };

  var state = {
    lang: "en",
    csrf: null,
    user: null,
    onLogin: null,
    onLanguage: [],
  };
  try {
    state.lang = window.localStorage.getItem(LANG_KEY) === "zh" ? "zh" : "en";
  } catch (e) {
    state.lang = "en";
  }

  // ---- text --------------------------------------------------------------------------------
  function t(key, values) {
    var table = STRINGS[state.lang];
    var text = Object.prototype.hasOwnProperty.call(table, key) ? table[key] : STRINGS.en[key];
    if (text === undefined) {
      text = key;
    }
    if (values) {
      Object.keys(values).forEach(function (name) {
        text = text.split("{" + name + "}").join(String(values[name]));
      });
    }
    return text;
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (name) {
        var value = attrs[name];
        if (value === null || value === undefined || value === false) {
          return;
        }
        if (name === "className") {
          node.className = value;
        } else if (name === "hidden") {
          node.hidden = true;
        } else {
          node.setAttribute(name, value === true ? "" : String(value));
        }
      });
    }
    if (text !== undefined && text !== null) {
      node.textContent = String(text);
    }
    return node;
  }

  /** A button whose accessible name is its visible text followed by ``more`` (for screen
   * readers only), so every name starts with what is seen ("Open" + " case HO-…"). */
  function button(visible, more, className) {
    var node = el("button", { type: "button", className: className || "secondary small" }, visible);
    if (more) {
      node.appendChild(el("span", { className: "visually-hidden" }, more));
    }
    return node;
  }

  function clear(node) {
    while (node.firstChild) {
      node.removeChild(node.firstChild);
    }
  }

  function safeUrl(url) {
    try {
      var parsed = new URL(String(url));
      return parsed.protocol === "https:" ? parsed.href : null;
    } catch (e) {
      return null;
    }
  }

  function formatTime(iso) {
    if (!iso) {
      return "";
    }
    var date = new Date(iso);
    if (isNaN(date.getTime())) {
      return String(iso);
    }
    return date.toLocaleString(state.lang === "zh" ? "zh-HK" : "en-GB", {
      year: "numeric",
      month: "short",
      day: "numeric",
      hour: "2-digit",
      minute: "2-digit",
    });
  }

  /** Put a message in a live region (role=status or alert) so screen readers say it; the
   * same message again is cleared first, so it is said again. */
  function announce(region, message) {
    window.clearTimeout(region.hkAnnounceTimer);
    if (region.textContent !== message) {
      region.textContent = message;
      return;
    }
    region.textContent = "";
    region.hkAnnounceTimer = window.setTimeout(function () {
      region.textContent = message;
    }, 50);
  }

  // ---- static text of the page (data-i18n attributes) -----------------------------------
  function translatePage() {
    document.documentElement.lang = state.lang === "zh" ? "zh-Hant-HK" : "en";
    document.querySelectorAll("[data-i18n]").forEach(function (node) {
      node.textContent = t(node.getAttribute("data-i18n"));
    });
    document.querySelectorAll("[data-i18n-label]").forEach(function (node) {
      node.setAttribute("aria-label", t(node.getAttribute("data-i18n-label")));
    });
    document.querySelectorAll("[data-i18n-placeholder]").forEach(function (node) {
      node.setAttribute("placeholder", t(node.getAttribute("data-i18n-placeholder")));
    });
    if (state.title) {
      document.title = t(state.title);
    }
    document.querySelectorAll("[data-set-lang]").forEach(function (button) {
      button.setAttribute(
        "aria-pressed",
        button.getAttribute("data-set-lang") === state.lang ? "true" : "false"
      );
    });
    showUser();
  }

  function setLanguage(lang) {
    state.lang = lang === "zh" ? "zh" : "en";
    try {
      window.localStorage.setItem(LANG_KEY, state.lang);
    } catch (e) {
      /* not remembered; the page still switches */
    }
    translatePage();
    state.onLanguage.forEach(function (fn) {
      fn(state.lang);
    });
  }

  // ---- the api -------------------------------------------------------------------------------
  function ApiError(status, detail) {
    this.status = status;
    this.detail = detail;
  }

  /**
   * fetch() with JSON, the session cookie and (for changes) the CSRF token. Resolves to the
   * parsed body; rejects with ApiError. A 401 shows the login form again.
   */
  function api(method, path, body, options) {
    var headers = { Accept: "application/json" };
    var init = { method: method, headers: headers, credentials: "same-origin" };
    if (options && options.signal) {
      init.signal = options.signal;
    }
    if (body instanceof FormData) {
      init.body = body;
    } else if (body !== undefined && body !== null) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    if (method !== "GET" && state.csrf) {
      headers["X-CSRF-Token"] = state.csrf;
    }
    return window.fetch(path, init).then(
      function (response) {
        return response
          .json()
          .catch(function () {
            return {};
          })
          .then(function (data) {
            if (response.ok) {
              return data;
            }
            var detail = (data && data.detail) || response.statusText || String(response.status);
            if (response.status === 401 && path !== "/api/auth/login") {
              showLogin(t("sessionEnded"));
            }
            throw new ApiError(response.status, detail);
          });
      },
      function (err) {
        if (err && err.name === "AbortError") {
          throw err;
        }
        throw new ApiError(0, t("networkError"));
      }
    );
  }

  function errorText(err) {
    if (err instanceof ApiError) {
      return err.status === 0 ? err.detail : t("failed", { detail: err.detail });
    }
    return t("failed", { detail: String(err) });
  }

  // ---- login and logout ------------------------------------------------------------------------
  function byId(id) {
    return document.getElementById(id);
  }

  function showUser() {
    var who = byId("who");
    if (!who) {
      return;
    }
    var box = byId("user-box");
    if (state.user) {
      who.textContent = t("loggedInAs", {
        name: state.user.username,
        role: t("role_" + state.user.role),
      });
      box.hidden = false;
    } else {
      who.textContent = "";
      box.hidden = true;
    }
  }

  function showLogin(message) {
    state.csrf = null;
    state.user = null;
    showUser();
    byId("app-view").hidden = true;
    byId("login-view").hidden = false;
    var error = byId("login-error");
    error.textContent = message || "";
    byId("login-username").focus();
  }

  function showApp(info) {
    if (state.roles && state.roles.indexOf(info.role) < 0) {
      showLogin(t("notAllowed"));
      return;
    }
    state.csrf = info.csrf_token;
    state.user = { username: info.username, role: info.role };
    showUser();
    byId("login-view").hidden = true;
    byId("app-view").hidden = false;
    if (state.onLogin) {
      state.onLogin(state.user);
    }
  }

  function wireLogin() {
    var form = byId("login-form");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = form.querySelector("button[type=submit]");
      var error = byId("login-error");
      error.textContent = "";
      button.disabled = true;
      button.textContent = t("loggingIn");
      api("POST", "/api/auth/login", {
        username: byId("login-username").value,
        password: byId("login-password").value,
      })
        .then(function (info) {
          byId("login-password").value = "";
          showApp(info);
          var heading = byId("app-title");
          if (heading) {
            heading.focus();
          }
        })
        .catch(function (err) {
          var message =
            err instanceof ApiError && err.status === 401 ? t("wrongLogin") : errorText(err);
          announce(error, message);
          byId("login-password").focus();
        })
        .then(function () {
          button.disabled = false;
          button.textContent = t("login");
        });
    });
    byId("logout").addEventListener("click", function () {
      api("POST", "/api/auth/logout").then(
        function () {
          showLogin("");
        },
        function () {
          showLogin("");
        }
      );
    });
  }

  // ---- clipboard -------------------------------------------------------------------------------
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    return new Promise(function (resolve, reject) {
      var area = el("textarea", { readonly: true, "aria-hidden": "true", className: "offscreen" });
      area.value = text;
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try {
        ok = document.execCommand("copy");
      } catch (e) {
        ok = false;
      }
      document.body.removeChild(area);
      if (ok) {
        resolve();
      } else {
        reject(new Error("copy refused"));
      }
    });
  }

  // ---- start --------------------------------------------------------------------------------------
  function start(options) {
    Object.keys(options.strings || {}).forEach(function (lang) {
      Object.keys(options.strings[lang]).forEach(function (key) {
        STRINGS[lang][key] = options.strings[lang][key];
      });
    });
    state.title = options.title;
    state.onLogin = options.onLogin;
    if (options.onLanguage) {
      state.onLanguage.push(options.onLanguage);
    }
    document.querySelectorAll("[data-set-lang]").forEach(function (button) {
      button.addEventListener("click", function () {
        setLanguage(button.getAttribute("data-set-lang"));
      });
    });
    wireLogin();
    translatePage();
    state.roles = options.roles || null;
    api("GET", "/api/auth/me").then(
      function (info) {
        showApp(info);
      },
      function () {
        showLogin("");
      }
    );
  }

  window.HKStaff = {
    t: t,
    el: el,
    button: button,
    clear: clear,
    api: api,
    errorText: errorText,
    formatTime: formatTime,
    announce: announce,
    start: start,
    copyText: copyText,
    safeUrl: safeUrl,
    lang: function () {
      return state.lang;
    },
    user: function () {
      return state.user;
    },
  };
})();
