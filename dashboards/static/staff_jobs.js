/* 定时任务: each job's schedule, next run and recent runs. */
"use strict";

(async () => {
  if (!FM.requireStaff()) return;
  const NAMES = { crawl: "价格采集", detect: "价格监测", deliver: "预警分发", price_checks: "投诉价格核查", price_follows: "公众价格关注", index: "价格指数发布" };
  const STATUS = { running: "运行中", ok: "成功", failed: "失败" };
  const BADGE = { ok: "ok", failed: "error" };
  try {
    const jobs = await FM.api("/api/jobs?limit=10");
    document.getElementById("scheduler").textContent = jobs.scheduler_active ? "调度器运行中。" : "调度器未在本进程运行（可能由其他进程负责，或尚未启动）。";
    document.getElementById("jobs").replaceChildren(...jobs.data.map((job) => FM.el("section", { class: "result" },
      FM.el("h2", {}, `${NAMES[job.name] || job.name}（${job.name}）`, " ", FM.el("span", { class: `badge ${job.enabled ? "ok" : ""}`, text: job.enabled ? "已启用" : "已停用" })),
      FM.el("dl", { class: "pairs" },
        FM.el("dt", { text: "计划" }), FM.el("dd", { text: job.schedule || "—" }),
        FM.el("dt", { text: "下次运行" }), FM.el("dd", { text: FM.dateTime(job.next_run_at) || "—" })),
      job.recent_runs.length
        ? FM.el("div", { class: "table-wrap" }, FM.el("table", { class: "data" },
          FM.el("thead", {}, FM.el("tr", {}, ...["开始", "结束", "状态", "错误", "详情"].map((h) => FM.el("th", { text: h })))),
          FM.el("tbody", {}, ...job.recent_runs.map((run) => FM.el("tr", {},
            FM.el("td", { text: FM.dateTime(run.started_at) }), FM.el("td", { text: FM.dateTime(run.finished_at) }),
            FM.el("td", {}, FM.el("span", { class: `badge ${BADGE[run.status] || ""}`, text: STATUS[run.status] || run.status })),
            FM.el("td", { text: run.error || "" }), FM.el("td", { text: Object.keys(run.details || {}).length ? JSON.stringify(run.details) : "" }))))))
        : FM.el("p", { class: "hint", text: "暂无运行记录。" }))));
  } catch (error) {
    FM.say(error.message, "error");
  }
})();
