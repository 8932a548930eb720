/* Shared helpers: JSON API calls (with the staff token), messages, formatting. */
"use strict";

const FM = (() => {
  const TOKEN = "fairmarket.token";
  const USER = "fairmarket.user";

  function token() { return sessionStorage.getItem(TOKEN); }
  function user() {
    try { return JSON.parse(sessionStorage.getItem(USER) || "null"); } catch { return null; }
  }
  function signIn(accessToken, me) {
    sessionStorage.setItem(TOKEN, accessToken);
    sessionStorage.setItem(USER, JSON.stringify(me));
  }
  function signOut() {
    sessionStorage.removeItem(TOKEN);
    sessionStorage.removeItem(USER);
  }
  function toLogin() {
    const next = encodeURIComponent(location.pathname + location.search);
    location.assign(`/staff/login?next=${next}`);
  }

  /** Staff pages: go to the login page first when there is no token, so no request fails. */
  function requireStaff() {
    if (!token()) { toLogin(); return null; }
    const me = user();
    const who = document.getElementById("who");
    if (who && me) who.textContent = `${me.full_name || me.username}${me.association_name ? "（" + me.association_name + "）" : ""}`;
    // Links to pages the signed-in role may not use are not offered.
    document.querySelectorAll("nav [data-roles]").forEach((link) => {
      link.hidden = Boolean(me) && !link.dataset.roles.split(" ").includes(me.role);
    });
    const logout = document.getElementById("logout");
    if (logout) {
      logout.hidden = false;
      logout.addEventListener("click", () => { signOut(); location.assign("/staff/login"); });
    }
    if (me && document.getElementById("unread-badge")) {
      api("/api/inbox?unread=true&size=1").then((inbox) => showUnread(inbox.unread)).catch(() => {});
    }
    return me;
  }

  /** The 收件箱 link's badge: how many inbox items are unread (hidden at zero). */
  function showUnread(count) {
    const badge = document.getElementById("unread-badge");
    if (!badge) return;
    badge.textContent = `${count} 未读`;
    badge.hidden = !count;
  }

  class ApiError extends Error {
    constructor(status, message, details) { super(message); this.status = status; this.details = details; }
  }

  async function api(path, options = {}) {
    const headers = new Headers(options.headers || {});
    headers.set("Accept", options.accept || "application/json");
    if (token()) headers.set("Authorization", `Bearer ${token()}`);
    let body = options.body;
    if (body !== undefined && !(body instanceof URLSearchParams) && typeof body !== "string") {
      headers.set("Content-Type", "application/json");
      body = JSON.stringify(body);
    }
    const response = await fetch(path, { method: options.method || "GET", headers, body });
    if (response.status === 401 && token()) { signOut(); toLogin(); throw new ApiError(401, "登录已过期，请重新登录"); }
    if (!response.ok) {
      let message = `请求失败（${response.status}）`;
      let details = null;
      try {
        const error = (await response.json()).error;
        if (error) { message = error.message || message; details = error.details; }
      } catch { /* not JSON: keep the status message */ }
      throw new ApiError(response.status, message, details);
    }
    if (options.raw) return response;
    return response.status === 204 ? null : response.json();
  }

  function query(params) {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) {
      if (value === undefined || value === null || value === "") continue;
      for (const item of Array.isArray(value) ? value : [value]) search.append(key, item);
    }
    return search.toString();
  }

  /**
   * The 上一页 / 下一页 pager of a list page (#prev, #next, #page-label). `go(page)` loads the page asked
   * for; the returned `show(page, total, size)` says where the loaded page stands and enables the buttons.
   */
  function pager(go) {
    const prev = document.getElementById("prev");
    const next = document.getElementById("next");
    const label = document.getElementById("page-label");
    let shown = 1;
    prev.addEventListener("click", () => go(shown - 1));
    next.addEventListener("click", () => go(shown + 1));
    return (page, total, size) => {
      const pages = Math.max(1, Math.ceil(total / size));
      shown = page;
      label.textContent = `第 ${page} / ${pages} 页`;
      prev.disabled = page <= 1;
      next.disabled = page >= pages;
    };
  }

  function say(text, kind = "info") {
    const box = document.getElementById("message");
    if (!box) return;
    box.textContent = text;
    box.className = `message ${kind}`;
    box.hidden = !text;
  }

  function el(tag, attributes = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false || child === "") continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  let table = null;
  /** The name people read for a code (the display-name table rendered into the page); unknown: as is. */
  function labelTable() {
    if (table === null) {
      const node = document.getElementById("labels");
      table = node ? JSON.parse(node.textContent) : {};
    }
    return table;
  }

  function label(section, code) {
    if (code === null || code === undefined || code === "") return "";
    const names = labelTable()[section];
    return (names && names[code]) || String(code);
  }

  /** A whole section of the table (code → name), e.g. for a select's options. */
  function labels(section) {
    return { ...(labelTable()[section] || {}) };
  }

  /** A price unit as people read it: 元/500g → 元/500克, 元/piece → 元/件. */
  function unit(code) { return label("unit", code); }

  function dateTime(iso) {
    if (!iso) return "";
    const moment = new Date(iso);
    if (Number.isNaN(moment.getTime())) return iso;
    return moment.toLocaleString("zh-CN", { timeZone: "Asia/Shanghai", hour12: false });
  }

  function isoDate(date) { return date.toISOString().slice(0, 10); }

  function money(value) {
    return value === null || value === undefined ? "" : Number(value).toFixed(2);
  }

  function downloadBlob(blob, filename) {
    const url = URL.createObjectURL(blob);
    const link = el("a", { href: url, download: filename });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  function csv(rows) {
    const cell = (value) => {
      const text = value === null || value === undefined ? "" : String(value);
      return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
    };
    // The BOM makes Excel on Chinese Windows read UTF-8.
    return new Blob(["\ufeff" + rows.map((row) => row.map(cell).join(",")).join("\r\n")], { type: "text/csv;charset=utf-8" });
  }

  return { api, ApiError, query, pager, say, el, label, labels, unit, dateTime, isoDate, money, downloadBlob, csv, token, user, signIn, signOut, requireStaff, showUnread };
})();
