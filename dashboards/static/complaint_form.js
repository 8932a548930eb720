/* 我要投诉: posts the form to the complaints API and shows the tracking code. */
"use strict";

(() => {
  const form = document.getElementById("complaint");
  const button = form.querySelector("button[type=submit]");
  // Set while a submission is on its way and for good once it succeeded: one form, one complaint.
  let locked = false;

  // Pydantic's error types, said in Chinese; anything else keeps the API's own message.
  const PROBLEMS = {
    missing: "必填", string_too_short: "内容过短", string_too_long: "内容过长", decimal_parsing: "请填写数字",
    decimal_max_places: "最多两位小数", greater_than_equal: "不能为负数", greater_than: "必须大于 0",
    less_than_equal: "数值过大", string_pattern_mismatch: "格式不正确", value_error: "格式不正确",
  };

  function fieldErrors(details) {
    // FastAPI validation details: [{loc: ["body", field], msg}, ...]
    if (!Array.isArray(details)) return [];
    return details.map((d) => {
      const name = Array.isArray(d.loc) ? d.loc[d.loc.length - 1] : "";
      const input = name && document.getElementById(name);
      const label = input ? input.closest("label").firstChild.textContent.trim() : name;
      if (input) input.setAttribute("aria-invalid", "true");
      return `${label}：${PROBLEMS[d.type] || d.msg}`;
    });
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (locked) return;
    form.querySelectorAll("[aria-invalid]").forEach((input) => input.removeAttribute("aria-invalid"));
    const text = document.getElementById("text");
    if (!text.value.trim()) {
      text.setAttribute("aria-invalid", "true");
      text.focus();
      FM.say("请填写投诉内容。", "error");
      return;
    }
    const body = {};
    for (const [key, value] of new FormData(form)) if (String(value).trim()) body[key] = String(value).trim();
    locked = true;
    button.disabled = true;
    FM.say("正在提交…");
    try {
      const created = await FM.api("/api/complaints?channel=web_form", { method: "POST", body });
      form.querySelectorAll("input, textarea, select, button").forEach((field) => { field.disabled = true; });
      form.hidden = true;
      document.getElementById("tracking-code").textContent = created.tracking_code;
      document.getElementById("deadline").textContent = created.accept_deadline ? `我们将在 ${created.accept_deadline} 前决定是否受理。请妥善保存查询码。` : "请妥善保存查询码。";
      document.getElementById("track-link").href = `/track?code=${encodeURIComponent(created.tracking_code)}`;
      document.getElementById("created").hidden = false;
      FM.say("提交成功。", "ok");
      document.getElementById("created").focus();
    } catch (error) {
      const problems = fieldErrors(error.details);
      FM.say(problems.length ? `${error.message}：${problems.join("；")}` : error.message, "error");
      locked = false;
      button.disabled = false;
    }
  });
})();
