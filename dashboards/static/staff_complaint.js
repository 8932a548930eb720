/* 投诉详情: facts, timeline, the workflow steps allowed from the current status, classification fixes. */
"use strict";

(() => {
  if (!FM.requireStaff()) return;
  const LABELS = JSON.parse(document.getElementById("labels").textContent);
  const id = document.getElementById("complaint").dataset.complaintId;
  let proposeOnly = false; // a trade association proposes a reclassification; the consumer association decides

  function fact(term, value) {
    return value || value === 0 ? [FM.el("dt", { text: term }), FM.el("dd", { text: value })] : [];
  }

  function options(select, names, selected) {
    select.replaceChildren(...Object.entries(names).map(([code, name]) => FM.el("option", { value: code, text: name, selected: code === selected })));
  }

  function priceCheck(check) {
    if (!check) return null;
    const unit = check.standard_unit ? FM.unit(`元/${check.standard_unit}`) : "元";
    const said = check.complained_price === null ? "" : `；投诉所述 ${FM.money(check.complained_price)} ${unit}`;
    if (check.status === "pending") return `已安排核查商家页面价格，等待采集${said}`;
    if (check.status !== "done") return `未能核查：${check.note || check.status}${said}`;
    const median = check.market_median === null ? "" : `；当日市场中位 ${FM.money(check.market_median)} ${unit}`;
    return `商家页面现价 ${FM.money(check.shown_price)} ${unit}（${check.observed_date || ""}）${said}${median}`;
  }

  function render(c) {
    proposeOnly = c.personal_data_masked;
    document.getElementById("c-title").textContent = c.title || "（无标题）";
    document.getElementById("c-text").textContent = c.text;
    const nature = c.nature && `${LABELS.nature[c.nature] || c.nature}${c.nature_corrected ? "（人工更正）" : c.nature_confidence ? `（自动，置信度 ${(c.nature_confidence * 100).toFixed(0)}%）` : ""}`;
    const industry = c.industry && `${LABELS.industry[c.industry] || c.industry}${c.industry_corrected ? "（人工更正）" : ""}`;
    document.getElementById("c-facts").replaceChildren(
      ...fact("查询码", c.tracking_code), ...fact("状态", c.status_name + (c.overdue ? "（已超期）" : "")),
      ...fact("提交时间", FM.dateTime(c.created_at)), ...fact("渠道", c.channel_name), ...fact("投诉性质", nature), ...fact("行业", industry),
      ...fact("转交协会", c.association_name || "未转交（无对应行业协会）"), ...fact("商家", c.merchant_name), ...fact("区域", c.district), ...fact("金额", c.amount && `${c.amount} 元`),
      ...fact("价格核查", priceCheck(c.price_check)),
      ...fact("诉求", c.demands), ...fact("投诉人", c.consumer_name), ...fact("联系方式", c.contact),
      ...fact("受理期限", c.accept_deadline), ...fact("调解期限", c.mediate_deadline));
    document.getElementById("timeline").replaceChildren(...c.timeline.map((step) => FM.el("li", {},
      FM.el("time", { text: `${FM.dateTime(step.at)} · ${step.actor}` }),
      step.status_name || step.action_name, step.note ? `：${step.note}` : "")));
    const steps = c.allowed_steps;
    const select = document.getElementById("to_status");
    select.replaceChildren(...steps.map((code) => FM.el("option", { value: code, text: LABELS.status[code] })));
    document.getElementById("transition").hidden = steps.length === 0;
    const noSteps = document.getElementById("no-steps");
    noSteps.hidden = steps.length !== 0;
    noSteps.textContent = (LABELS.transitions[c.status] || []).length
      ? `当前状态为“${c.status_name}”，下一步由消费者协会办理。`
      : "本投诉已结案，没有后续步骤。";
    options(document.getElementById("nature"), LABELS.nature, c.nature);
    options(document.getElementById("industry"), LABELS.industry, c.industry);
  }

  async function load() {
    try { render(await FM.api(`/api/complaints/${id}`)); } catch (error) { FM.say(error.message, "error"); }
  }

  async function send(path, method, body, done) {
    try {
      render(await FM.api(path, { method, body }));
      FM.say(done, "ok");
    } catch (error) {
      FM.say(error.message, "error");
    }
  }

  document.getElementById("transition").addEventListener("submit", (event) => {
    event.preventDefault();
    const note = document.getElementById("note").value.trim();
    const to = document.getElementById("to_status").value;
    send(`/api/complaints/${id}/transitions`, "POST", { to_status: to, note: note || null }, `已变更为“${LABELS.status[to]}”。`)
      .then(() => { document.getElementById("note").value = ""; });
  });
  document.getElementById("classification").addEventListener("submit", (event) => {
    event.preventDefault();
    const note = document.getElementById("class-note").value.trim();
    const body = { nature: document.getElementById("nature").value, industry: document.getElementById("industry").value, note: note || null };
    if (proposeOnly) {
      FM.api(`/api/complaints/${id}/classification-proposals`, { method: "POST", body })
        .then(() => { FM.say("更正建议已提交，待消费者协会审核。", "ok"); load(); }, (error) => FM.say(error.message, "error"));
      return;
    }
    send(`/api/complaints/${id}/classification`, "PATCH", body, "分类已更正。");
  });
  load();
})();
