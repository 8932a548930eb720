/* 采集状态: the latest run of each source, then the recent runs with their errors. */
"use strict";

(async () => {
  if (!FM.requireStaff()) return;
  const STATUS = { running: "运行中", ok: "正常", degraded: "部分失败", failed: "失败" };
  const BADGE = { ok: "ok", degraded: "warn", failed: "error", running: "" };
  const badge = (status) => FM.el("span", { class: `badge ${BADGE[status] || ""}`, text: STATUS[status] || status });
  const cells = (...values) => values.map((value) => FM.el("td", {}, value instanceof Node ? value : String(value ?? "")));
  try {
    const runs = await FM.api("/api/crawls?size=200");
    const latest = new Map();
    for (const run of runs.data) {
      const key = run.source || run.spider;
      if (!latest.has(key)) latest.set(key, run);
    }
    document.querySelector("#sources tbody").replaceChildren(...[...latest.entries()].map(([source, run]) => FM.el("tr", {},
      ...cells(source, run.spider, FM.dateTime(run.started_at), badge(run.status), run.items_stored, run.items_quarantined, run.items_unmapped, run.errors))));
    document.querySelector("#runs tbody").replaceChildren(...runs.data.map((run) => FM.el("tr", {},
      ...cells(run.id, run.source || run.spider, FM.dateTime(run.started_at),
        run.duration_seconds === null ? "" : `${run.duration_seconds.toFixed(1)} 秒`, badge(run.status), run.pages,
        run.items_stored, run.items_quarantined, run.items_unmapped, run.items_duplicate, run.errors,
        (run.error_samples || []).slice(0, 3).map((sample) => (typeof sample === "string" ? sample : JSON.stringify(sample))).join("；")))));
    FM.say(runs.count ? "" : "还没有采集记录。运行 fairmarket crawl 或等定时任务运行后再来查看。", runs.count ? "info" : "warn");
  } catch (error) {
    FM.say(error.message, "error");
  }
})();
