/* 确认关注价格: one button posts the mail's token to the API (a link alone never confirms: mail
   scanners open links, people press buttons). */
"use strict";

(() => {
  const form = document.getElementById("confirm-follow");
  const result = document.getElementById("confirm-result");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button");
    button.disabled = true;
    try {
      await FM.api(`/api/price-follows/confirm?token=${encodeURIComponent(form.dataset.token)}`, { method: "POST" });
      result.textContent = "已确认关注。价格变动超过设定幅度时，我们会发邮件给您。";
      result.className = "message ok";
      form.hidden = true;
    } catch (error) {
      result.textContent = error.message;
      result.className = "message error";
      button.disabled = false;
    }
    result.hidden = false;
  });
})();
