/* 投诉查询: a complaint's status and timeline by its tracking code. */
"use strict";

(() => {
  const form = document.getElementById("track");
  const input = document.getElementById("code");

  function fact(term, value) {
    return value ? [FM.el("dt", { text: term }), FM.el("dd", { text: value })] : [];
  }

  async function look(code) {
    FM.say("正在查询…");
    document.getElementById("result").hidden = true;
    try {
      const found = await FM.api(`/api/complaints/track/${encodeURIComponent(code)}`);
      document.getElementById("result-title").textContent = found.title || "投诉";
      document.getElementById("result-facts").replaceChildren(
        ...fact("查询码", found.tracking_code), ...fact("当前状态", found.status_name + (found.overdue ? "（已超期）" : "")),
        ...fact("提交时间", FM.dateTime(found.created_at)), ...fact("投诉性质", FM.label("nature", found.nature)), ...fact("行业", found.industry_name),
        ...fact("转交调解", found.association_name),
        ...fact("受理期限", found.accept_deadline), ...fact("调解期限", found.mediate_deadline), ...fact("投诉内容", found.text));
      document.getElementById("timeline").replaceChildren(...found.timeline.map((step) => FM.el("li", {},
        FM.el("time", { text: FM.dateTime(step.at) }), step.status_name || step.action_name, step.note ? `：${step.note}` : "")));
      document.getElementById("result").hidden = false;
      FM.say("");
    } catch (error) {
      FM.say(error.status === 404 ? "没有找到这个查询码对应的投诉，请核对后重试。" : error.message, "error");
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const code = input.value.trim();
    if (!code) { FM.say("请输入查询码。", "error"); input.focus(); return; }
    history.replaceState(null, "", `/track?code=${encodeURIComponent(code)}`);
    look(code);
  });
  const initial = new URLSearchParams(location.search).get("code");
  if (initial) { input.value = initial; look(initial); }
})();
