/* 预警处理: each alert with its evidence chart and the lifecycle actions (知悉 / 确认 / 驳回). */
"use strict";

(() => {
  if (!FM.requireStaff()) return;
  const SIZE = 10;
  const form = document.getElementById("filters");
  let page = 1;
  const showPage = FM.pager((to) => { page = to; load(); });
  let unreadByAlert = new Map();

  /** The caller's unread inbox items for alerts: shown as 未读, marked read once the alert is acted on. */
  async function loadUnread() {
    const inbox = await FM.api("/api/inbox?unread=true&kind=alert&size=200");
    unreadByAlert = new Map(inbox.data.map((item) => [item.alert_id, item.id]));
    return inbox.unread;
  }

  async function markRead(alertId) {
    const itemId = unreadByAlert.get(alertId);
    if (itemId === undefined) return;
    await FM.api(`/api/inbox/${itemId}/read`, { method: "POST" });
    unreadByAlert.delete(alertId);
  }

  function actionsFor(alert, card) {
    const note = FM.el("input", { "aria-label": "说明或驳回理由", maxlength: 500, placeholder: "说明（驳回时必填理由）" });
    const act = async (step) => {
      const text = note.value.trim();
      if (step === "dismiss" && !text) { FM.say("驳回预警须填写理由。", "error"); note.focus(); return; }
      const buttons = card.querySelectorAll(".actions button");
      buttons.forEach((button) => { button.disabled = true; });
      try {
        const body = step === "dismiss" ? { reason: text } : { note: text || null };
        const updated = await FM.api(`/api/alerts/${alert.id}/${step}`, { method: "POST", body });
        await markRead(alert.id);
        card.replaceWith(renderAlert(updated));
        FM.say(`预警 #${alert.id}：${updated.status_name}。`, "ok");
      } catch (error) {
        buttons.forEach((button) => { button.disabled = false; });
        FM.say(error.message, "error");
      }
    };
    const buttons = [];
    if (alert.status === "open") buttons.push(FM.el("button", { type: "button", onclick: () => act("acknowledge") }, "知悉"));
    if (alert.status === "open" || alert.status === "acknowledged") {
      buttons.push(FM.el("button", { type: "button", onclick: () => act("confirm") }, "确认违规"));
      buttons.push(FM.el("button", { type: "button", class: "secondary", onclick: () => act("dismiss") }, "驳回"));
    }
    return buttons.length ? FM.el("div", { class: "actions" }, note, ...buttons) : null;
  }

  function packButton(alert) {
    const download = async () => {
      try {
        const response = await FM.api(`/api/alerts/${alert.id}/evidence-pack`, { raw: true, accept: "application/zip" });
        FM.downloadBlob(await response.blob(), `evidence-pack-alert-${alert.id}.zip`);
      } catch (error) {
        FM.say(error.message, "error");
      }
    };
    return FM.el("button", { type: "button", class: "secondary", onclick: download }, "下载证据包");
  }

  function renderAlert(alert) {
    const e = alert.evidence;
    const chart = FM.el("div", { class: "chart small", role: "img", "aria-label": `预警 #${alert.id} 证据图` });
    const card = FM.el("article", { class: "alert-card", "data-alert-id": alert.id, "data-status": alert.status });
    const history = (alert.actions || []).map((a) => FM.el("li", {}, FM.el("time", { text: `${FM.dateTime(a.at)} · ${a.actor}` }), a.action_name || FM.label("alert_action", a.action), a.note ? `：${a.note}` : ""));
    card.append(
      FM.el("h2", {}, `#${alert.id} ${(e.rule && e.rule.title) || alert.rule_id} `,
        FM.el("span", { class: `badge ${alert.severity}`, text: FM.label("severity", alert.severity) }), " ",
        FM.el("span", { class: "badge status", text: alert.status_name }),
        unreadByAlert.has(alert.id) ? FM.el("span", { class: "badge warn unread", text: "未读" }) : null),
      AlertEvidence.facts(alert,
        AlertEvidence.fact("关联投诉", e.complaints && e.complaints.length ? `${e.complaints.length} 件` : null),
        AlertEvidence.fact("驳回理由", alert.dismiss_reason)),
      chart,
    );
    const actions = actionsFor(alert, card);
    if (actions) card.append(actions);
    card.append(FM.el("p", { class: "actions" }, packButton(alert)));
    if (history.length) card.append(FM.el("ol", { class: "timeline" }, ...history));
    requestAnimationFrame(() => AlertEvidence.draw(chart, alert));
    return card;
  }

  async function load() {
    const data = new FormData(form);
    const params = { status: String(data.get("status") || "").split(",").filter(Boolean), min_severity: data.get("min_severity"), page, size: SIZE };
    FM.say("正在加载…");
    try {
      const [result, unread] = await Promise.all([FM.api(`/api/alerts?${FM.query(params)}`), loadUnread()]);
      const list = document.getElementById("alerts");
      list.replaceChildren(...result.data.map(renderAlert));
      if (!result.data.length) list.replaceChildren(FM.el("p", { text: "没有符合条件的预警。" }));
      document.getElementById("summary").textContent = `共 ${result.count} 条预警，收件箱未读 ${unread} 条`;
      showPage(page, result.count, SIZE);
      FM.say("");
    } catch (error) {
      FM.say(error.message, "error");
    }
  }

  form.addEventListener("submit", (event) => { event.preventDefault(); page = 1; load(); });
  load();
})();
