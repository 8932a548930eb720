/* 订阅设置: list, create and edit subscriptions, rotate the webhook secret, send a test message. */
"use strict";

(() => {
  const me = FM.requireStaff();
  if (!me) return;
  const DISTRICTS = ["道里区", "道外区", "南岗区", "香坊区", "平房区", "松北区", "呼兰区", "阿城区", "双城区"];
  const CHANNELS = ["inbox", "webhook", "email"];
  const form = document.getElementById("subscription");
  const save = document.getElementById("save");
  const cancel = document.getElementById("cancel");
  let busy = false;

  function checkboxes(container, name, entries) {
    container.append(...entries.map(([value, text]) => FM.el("label", {}, FM.el("input", { type: "checkbox", name, value }), text)));
  }
  checkboxes(document.getElementById("industries"), "industries", Object.entries(FM.labels("industry")));
  checkboxes(document.getElementById("districts"), "districts", DISTRICTS.map((d) => [d, d]));
  checkboxes(document.getElementById("channels"), "channels", CHANNELS.map((c) => [c, FM.label("delivery_channel", c)]));
  const inbox = form.querySelector("input[name=channels][value=inbox]");
  inbox.checked = true;
  inbox.disabled = true;
  document.getElementById("min_severity").replaceChildren(...Object.entries(FM.labels("severity")).map(([code, name]) => FM.el("option", { value: code, text: `${name}及以上` })));

  function checked(name) { return [...form.querySelectorAll(`input[name=${name}]:checked`)].map((box) => box.value); }
  function setChecked(name, values) { form.querySelectorAll(`input[name=${name}]`).forEach((box) => { box.checked = values.includes(box.value) || box === inbox; }); }

  function body() {
    const text = (id) => document.getElementById(id).value.trim() || null;
    return {
      name: document.getElementById("name").value.trim(), industries: checked("industries"), districts: checked("districts"),
      min_severity: document.getElementById("min_severity").value, channels: ["inbox", ...checked("channels").filter((c) => c !== "inbox")],
      webhook_url: text("webhook_url"), email: text("email"), quiet_hours: text("quiet_hours"),
      daily_digest: document.getElementById("daily_digest").checked, active: document.getElementById("active").checked,
    };
  }

  function edit(subscription) {
    document.getElementById("form-title").textContent = `编辑订阅：${subscription.name}`;
    document.getElementById("sub-id").value = subscription.id;
    for (const id of ["name", "webhook_url", "email", "quiet_hours", "min_severity"]) document.getElementById(id).value = subscription[id] || "";
    document.getElementById("daily_digest").checked = subscription.daily_digest;
    document.getElementById("active").checked = subscription.active;
    setChecked("industries", subscription.industries);
    setChecked("districts", subscription.districts);
    setChecked("channels", subscription.channels);
    cancel.hidden = false;
    document.getElementById("name").focus();
  }

  function reset() {
    form.reset();
    document.getElementById("sub-id").value = "";
    document.getElementById("form-title").textContent = "新建订阅";
    inbox.checked = true;
    cancel.hidden = true;
  }

  function showSecret(secret) {
    document.getElementById("secret").textContent = secret;
    const box = document.getElementById("secret-box");
    box.hidden = false;
    box.focus();
  }

  /** Runs one request with the clicked button disabled, so a double click sends it once. */
  async function once(button, work) {
    if (button.disabled) return;
    button.disabled = true;
    try { await work(); } catch (error) { FM.say(error.message, "error"); } finally { button.disabled = false; }
  }

  function render(subscription) {
    const results = FM.el("ul", { class: "test-results" });
    const facts = FM.el("dl", { class: "pairs" },
      FM.el("dt", { text: "行业" }), FM.el("dd", { text: subscription.industries.map((c) => FM.label("industry", c)).join("、") || "本协会全部行业" }),
      FM.el("dt", { text: "地区" }), FM.el("dd", { text: subscription.districts.join("、") || "全市" }),
      FM.el("dt", { text: "最低级别" }), FM.el("dd", { text: FM.label("severity", subscription.min_severity) }),
      FM.el("dt", { text: "渠道" }), FM.el("dd", { text: subscription.channels.map((c) => FM.label("delivery_channel", c)).join("、") }),
      ...(subscription.webhook_url ? [FM.el("dt", { text: "Webhook" }), FM.el("dd", { text: `${subscription.webhook_url}（${subscription.webhook_secret_set ? "已设密钥" : "未设密钥"}）` })] : []),
      ...(subscription.email ? [FM.el("dt", { text: "邮箱" }), FM.el("dd", { text: subscription.email })] : []),
      ...(subscription.quiet_hours ? [FM.el("dt", { text: "免打扰" }), FM.el("dd", { text: subscription.quiet_hours })] : []));
    const buttons = [FM.el("button", { type: "button", class: "secondary", onclick: () => edit(subscription) }, "编辑")];
    if (subscription.channels.includes("webhook")) {
      buttons.push(FM.el("button", { type: "button", class: "secondary", onclick: (event) => once(event.currentTarget, async () => {
        if (!confirm("更换后旧密钥立即失效，接收系统须同步更新。确定更换？")) return;
        const rotated = await FM.api(`/api/subscriptions/${subscription.id}/rotate-secret`, { method: "POST" });
        showSecret(rotated.webhook_secret);
        FM.say("密钥已更换。", "ok");
      }) }, "更换密钥"));
    }
    if (subscription.active && subscription.channels.some((c) => c !== "inbox")) {
      buttons.push(FM.el("button", { type: "button", class: "secondary", onclick: (event) => once(event.currentTarget, async () => {
        const outcome = await FM.api(`/api/subscriptions/${subscription.id}/test`, { method: "POST" });
        results.replaceChildren(...outcome.data.map((r) => FM.el("li", { class: r.ok ? "ok" : "error" },
          `${r.channel_name}（${r.target}）：${r.ok ? "测试消息已送达" : `发送失败：${r.error}`}`)));
        FM.say(outcome.data.every((r) => r.ok) ? "测试消息已全部送达。" : "有渠道发送失败，请检查地址后重试。", outcome.data.every((r) => r.ok) ? "ok" : "error");
      }) }, "发送测试"));
    }
    buttons.push(FM.el("button", { type: "button", class: "secondary", onclick: (event) => once(event.currentTarget, async () => {
      if (subscription.active) await FM.api(`/api/subscriptions/${subscription.id}`, { method: "DELETE" });
      else await FM.api(`/api/subscriptions/${subscription.id}`, { method: "PATCH", body: { active: true } });
      FM.say(subscription.active ? "订阅已停用。" : "订阅已启用。", "ok");
      await load();
    }) }, subscription.active ? "停用" : "启用"));
    return FM.el("article", { class: `subscription${subscription.active ? "" : " inactive"}`, "data-subscription-id": subscription.id },
      FM.el("h2", {}, subscription.name, " ", FM.el("span", { class: `badge ${subscription.active ? "ok" : ""}`, text: subscription.active ? "启用中" : "已停用" })),
      facts, FM.el("div", { class: "actions" }, ...buttons), results);
  }

  async function load() {
    const list = await FM.api("/api/subscriptions?size=200");
    const container = document.getElementById("subscriptions");
    container.replaceChildren(...list.data.map(render));
    if (!list.data.length) container.replaceChildren(FM.el("p", { class: "result", text: "还没有订阅。在下面新建一个，即可按行业、地区和级别接收预警。" }));
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (busy) return;
    const data = body();
    if (!data.name) { FM.say("请填写订阅名称。", "error"); document.getElementById("name").focus(); return; }
    const id = document.getElementById("sub-id").value;
    busy = true;
    save.disabled = true;
    try {
      if (id) {
        await FM.api(`/api/subscriptions/${id}`, { method: "PATCH", body: data });
        FM.say("订阅已保存。", "ok");
      } else {
        const created = await FM.api("/api/subscriptions", { method: "POST", body: me.association_id ? { ...data, association_id: me.association_id } : data });
        FM.say("订阅已创建。", "ok");
        if (created.webhook_secret) showSecret(created.webhook_secret);
      }
      reset();
      await load();
    } catch (error) {
      const details = Array.isArray(error.details) ? error.details.map((d) => d.msg).join("；") : "";
      FM.say(details ? `${error.message}：${details}` : error.message, "error");
    } finally {
      busy = false;
      save.disabled = false;
    }
  });
  cancel.addEventListener("click", reset);
  load().catch((error) => FM.say(error.message, "error"));
})();
