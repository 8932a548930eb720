/* 预警收件箱: each alert with its evidence chart and the lifecycle actions (知悉 / 确认 / 驳回). */
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

  /** The price (or count) at which the rule fires: the reference times (1 + the rule's margin). */
  function thresholdRatio(evidence) {
    if (String(evidence.rule && evidence.rule.kind).startsWith("complaint")) return null;
    const ratio = evidence.peak_change - evidence.breach;
    return Number.isFinite(ratio) && ratio > 0 ? ratio : null;
  }

  function evidenceTraces(alert) {
    const e = alert.evidence;
    const s = e.series || { dates: [] };
    const dates = s.dates || [];
    const own = s.merchant || s.value || [];
    const referenceValue = e.reference ? e.reference.value : null;
    const reference = (s.reference || []).map((v) => (v === null ? null : v));
    const traces = [
      { x: dates, y: own, name: alert.kind.startsWith("complaint") ? "价格投诉（件/日）" : (alert.merchant || "经营者价格"), type: "scatter", mode: "lines+markers", line: { color: "#b03a2e", width: 2 }, marker: { size: 5 } },
    ];
    if (s.market_median) traces.push({ x: dates, y: s.market_median, name: "市场中位价", type: "scatter", mode: "lines", line: { color: "#2e86c1", width: 1.5 } });
    if (reference.some((v) => v !== null)) traces.push({ x: dates, y: reference, name: "参照水平", type: "scatter", mode: "lines", line: { color: "#1e8449", dash: "dash" }, connectgaps: false });
    const ratio = thresholdRatio(e);
    if (ratio !== null) {
      const levels = reference.some((v) => v !== null) ? reference : dates.map(() => referenceValue);
      traces.push({ x: dates, y: levels.map((v) => (v === null ? null : v * (1 + ratio))), name: `触发线（参照 +${(ratio * 100).toFixed(0)}%）`, type: "scatter", mode: "lines", line: { color: "#e67e22", dash: "dot" }, connectgaps: false });
    }
    const peers = (e.peers && e.peers.sample) || [];
    if (peers.length) {
      traces.push({ x: peers.map(() => e.peers.date), y: peers.map((p) => p.price), text: peers.map((p) => p.merchant), name: `同行报价（${e.peers.date}）`, type: "scatter", mode: "markers", marker: { color: "#7f8c8d", size: 8, symbol: "diamond" }, hovertemplate: "%{text}：%{y}<extra></extra>" });
    }
    return traces;
  }

  function drawEvidence(element, alert) {
    const e = alert.evidence;
    const window = e.reference && e.reference.window;
    const shapes = window ? [{ type: "rect", xref: "x", yref: "paper", x0: window.from, x1: window.to, y0: 0, y1: 1, fillcolor: "rgba(30, 132, 73, 0.08)", line: { width: 0 }, layer: "below" }] : [];
    const annotations = window ? [{ xref: "x", yref: "paper", x: window.from, y: 1, xanchor: "left", yanchor: "bottom", text: "参照期", showarrow: false, font: { size: 11, color: "#1e8449" } }] : [];
    Charts.draw(element, evidenceTraces(alert), {
      shapes, annotations, margin: { l: 56, r: 16, t: 24, b: 40 },
      yaxis: { title: { text: FM.unit(e.unit) || (alert.kind.startsWith("complaint") ? "件" : "") } },
    });
  }

  function fact(term, value) {
    return value || value === 0 ? [FM.el("dt", { text: term }), FM.el("dd", { text: value })] : [];
  }

  function percent(value) {
    return value === null || value === undefined ? "" : `${value >= 0 ? "+" : ""}${(value * 100).toFixed(1)}%`;
  }

  function actionsFor(alert, card) {
    const note = FM.el("input", { "aria-label": "说明或驳回理由", maxlength: 500, placeholder: "说明（驳回时必填理由）" });
    const act = async (step) => {
      const text = note.value.trim();
      if (step === "dismiss" && !text) { FM.say("驳回预警须填写理由。", "error"); note.focus(); return; }
      try {
        const body = step === "dismiss" ? { reason: text } : { note: text || null };
        const updated = await FM.api(`/api/alerts/${alert.id}/${step}`, { method: "POST", body });
        await markRead(alert.id);
        card.replaceWith(renderAlert(updated));
        FM.say(`预警 #${alert.id}：${updated.status_name}。`, "ok");
      } catch (error) {
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
      FM.el("dl", { class: "pairs" },
        ...fact("商品", alert.product), ...fact("经营者", alert.merchant), ...fact("地区", alert.region),
        ...fact("时段", `${alert.start_date} 至 ${alert.end_date}（${e.days || "?"} 天）`),
        ...fact("当前 / 参照", e.current !== undefined && e.reference ? `${FM.money(e.current)} / ${FM.money(e.reference.value)} ${FM.unit(e.unit || "")}` : null),
        ...(alert.kind.startsWith("complaint")
          ? fact("对比基线", e.change === null || e.change === undefined ? null : `${(e.change + 1).toFixed(1)} 倍`)
          : [...fact("涨幅", percent(e.change)), ...fact("市场涨幅", percent(e.market_change))]),
        ...fact("参照说明", e.reference && e.reference.description), ...fact("依据", e.rule && e.rule.citation),
        ...fact("关联投诉", e.complaints && e.complaints.length ? `${e.complaints.length} 件` : null),
        ...fact("驳回理由", alert.dismiss_reason)),
      chart,
    );
    const actions = actionsFor(alert, card);
    if (actions) card.append(actions);
    card.append(FM.el("p", { class: "actions" }, packButton(alert)));
    if (history.length) card.append(FM.el("ol", { class: "timeline" }, ...history));
    requestAnimationFrame(() => drawEvidence(chart, alert));
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
