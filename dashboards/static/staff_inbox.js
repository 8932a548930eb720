/* 收件箱: the association's routed alerts and complaints; reading one marks it read and updates the counts. */
"use strict";

(() => {
  const me = FM.requireStaff();
  if (!me) return;
  const SIZE = 20;
  const form = document.getElementById("filters");
  const readAll = document.getElementById("read-all");
  let page = 1;
  let shown = [];
  let total = 0;
  let unread = 0;
  const showPage = FM.pager((to) => { page = to; load(); });
  // The consumer association reads every association's inbox but marks only its own items read.
  const mayMark = (item) => item.association_id === me.association_id;

  function summarise() {
    document.getElementById("summary").textContent = `共 ${total} 条，未读 ${unread} 条`;
    FM.showUnread(unread);
    readAll.disabled = !shown.some((item) => !item.read_at && mayMark(item));
  }

  function link(item) {
    if (item.kind === "alert" && item.alert_id) return FM.el("a", { href: `/staff/alerts#alert-${item.alert_id}` }, "去处理预警");
    if (item.complaint_id) return FM.el("a", { href: `/staff/complaints/${item.complaint_id}` }, "打开投诉");
    return null;
  }

  async function markRead(item, card) {
    if (item.read_at || !mayMark(item)) return;
    const updated = await FM.api(`/api/inbox/${item.id}/read`, { method: "POST" });
    item.read_at = updated.read_at;
    unread = Math.max(0, unread - 1);
    card.classList.remove("unread");
    card.querySelector(".badge.unread")?.remove();
    card.querySelector("button.mark")?.remove();
    summarise();
  }

  function render(item) {
    const body = FM.el("pre", { class: "message-body", hidden: true, text: item.body });
    const card = FM.el("article", { class: `inbox-item${item.read_at ? "" : " unread"}`, "data-item-id": item.id });
    const open = FM.el("button", { type: "button", class: "link", "aria-expanded": "false", onclick: async () => {
      body.hidden = !body.hidden;
      open.setAttribute("aria-expanded", String(!body.hidden));
      if (!body.hidden) await markRead(item, card).catch((error) => FM.say(error.message, "error"));
    } }, item.subject);
    const channels = item.channels.map((c) => `${FM.label("delivery_channel", c.channel)}：${c.status === "sent" ? "已送达" : c.status === "dead" ? "发送失败" : "发送中"}`);
    card.append(
      FM.el("h2", {}, FM.el("span", { class: "badge", text: FM.label("delivery_kind", item.kind) }), " ", open, " ",
        item.read_at ? null : FM.el("span", { class: "badge warn unread", text: "未读" })),
      FM.el("p", { class: "meta" }, FM.el("time", { text: FM.dateTime(item.created_at) }), channels.join("；"), link(item)),
      body);
    if (!item.read_at && mayMark(item)) {
      card.append(FM.el("button", { type: "button", class: "secondary mark", onclick: () => markRead(item, card).catch((error) => FM.say(error.message, "error")) }, "标为已读"));
    }
    return card;
  }

  async function load() {
    const data = new FormData(form);
    FM.say("正在加载…");
    try {
      const result = await FM.api(`/api/inbox?${FM.query({ unread: data.get("unread"), kind: data.get("kind"), page, size: SIZE })}`);
      shown = result.data;
      total = result.count;
      unread = result.unread;
      const list = document.getElementById("items");
      list.replaceChildren(...shown.map(render));
      if (!shown.length) list.replaceChildren(FM.el("p", { class: "result", text: data.get("unread") === "true" ? "没有未读消息。" : "收件箱是空的。" }));
      showPage(page, total, SIZE);
      summarise();
      FM.say("");
    } catch (error) {
      FM.say(error.message, "error");
    }
  }

  readAll.addEventListener("click", async () => {
    readAll.disabled = true;
    const cards = new Map([...document.querySelectorAll("#items article")].map((card) => [Number(card.dataset.itemId), card]));
    try {
      for (const item of shown) await markRead(item, cards.get(item.id));
      FM.say("本页消息已全部标为已读。", "ok");
    } catch (error) {
      FM.say(error.message, "error");
    }
    summarise();
  });
  form.addEventListener("submit", (event) => { event.preventDefault(); page = 1; load(); });
  load();
})();
