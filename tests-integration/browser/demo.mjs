// Drives the demo page, which talks through the TypeScript client, in a real Chromium: two tabs as
// alice, one as bob (after a forged token).
// Usage: node demo.mjs <demo base URL> <screenshot folder>; CHROMIUM names the browser executable.
// Midway it prints the line RESTART and waits for a line on stdin: the caller restarts the server
// on the same port meanwhile. At the end it prints one JSON line: what each tab's frame log shows,
// and leaves <tab>.png in the folder. It exits 1 when a step times out, still printing what the
// tabs showed by then.
import { createInterface } from "node:readline";
import { join } from "node:path";

import { chromium } from "playwright-core";

const [baseUrl, screenshots] = process.argv.slice(2);
const STEP_TIMEOUT = 10_000;

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium" });
const tabs = {};
const result = { ok: false };

// What a tab's log shows, row by row, as the user sees it.
const rowsOf = (page) =>
  page.$$eval("#log li:not(.head)", (items) =>
    items.map((li) => {
      const cell = (name) => li.querySelector(`.${name}`)?.innerText ?? "";
      return {
        kind: li.className,
        name: cell("name"),
        to: cell("to"),
        seq: cell("seq"),
        req: cell("req"),
        payload: cell("payload"),
        fields: [...li.querySelectorAll(".fields-wrong div")].map((line) => line.innerText),
      };
    }),
  );

// Wait until the tab shows at least `count` rows whose name is `name`.
const waitForRows = (page, name, count = 1) =>
  page.waitForFunction(
    ([name, count]) =>
      [...document.querySelectorAll("#log li .name")].filter((cell) => cell.textContent === name).length >= count,
    [name, count],
    { timeout: STEP_TIMEOUT },
  );

const countRows = (page, name) =>
  page.$$eval("#log li .name", (cells, name) => cells.filter((cell) => cell.textContent === name).length, name);

const waitForStatus = (page, status) =>
  page.waitForFunction((status) => document.getElementById("status").textContent === status, status, {
    timeout: STEP_TIMEOUT,
  });

const stdin = createInterface({ input: process.stdin });
const nextLine = () => new Promise((resolve) => stdin.once("line", resolve));

const waitForIdentity = (page, user) =>
  page.waitForFunction((user) => document.getElementById("identity").textContent.startsWith(`user ${user} `), user, {
    timeout: STEP_TIMEOUT,
  });

// A background tab gets no animation frames, which Playwright waits for before it clicks.
async function click(page, quick, text) {
  await page.bringToFront();
  if (text !== undefined) await page.fill("#text", text);
  await page.click(`[data-quick="${quick}"]`);
}

try {
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  for (const name of ["alice", "alice2", "bob"]) {
    tabs[name] = await context.newPage();
    await tabs[name].goto(baseUrl);
  }
  const { alice, alice2, bob } = tabs;
  await waitForIdentity(alice, 1);
  await waitForIdentity(alice2, 1);

  // A forged token: the handshake is refused, and the page says so in words.
  await bob.selectOption("#token", "forged");
  await bob.waitForFunction(() => document.getElementById("banner").textContent.includes("refused"), null, {
    timeout: STEP_TIMEOUT,
  });
  result.refused = await bob.innerText("#banner");
  await bob.selectOption("#token", "demo-bob");
  await waitForIdentity(bob, 2);

  // A streamed reply: four events over a second and a half.
  await click(alice, "countdown");
  await waitForRows(alice, "countdown.tick", 4);

  // A room: alice and bob join, alice speaks, both see it; alice's second tab is not in the room.
  await click(alice, "join");
  await waitForRows(alice, "room.joined");
  await click(bob, "join");
  await waitForRows(alice, "room.joined", 2);
  await click(alice, "say", "hello room");
  await waitForRows(bob, "room.message");
  await waitForRows(alice, "room.message");

  // The user recipient: alice's second tab speaks to all of alice's tabs.
  await click(alice2, "tell", "to all my tabs");
  await waitForRows(alice, "user.message");
  await waitForRows(alice2, "user.message");

  // Pushes from the HTTP endpoints: bob to the room, alice to her own tabs.
  await click(bob, "push-room", "pushed to the room");
  await waitForRows(alice, "notice");
  await waitForRows(bob, "notice");
  await click(alice, "push-user", "pushed to my tabs");
  await waitForRows(alice, "notice", 2);
  await waitForRows(alice2, "notice");

  // A payload that does not fit: the 422 and its field errors.
  await click(alice, "invalid");
  await waitForRows(alice, "422 invalid_action_payload");
  result.problemVisible = await alice.locator("#log li.problem .fields-wrong").first().isVisible();

  // A cancel: a countdown from 10 (a tick every half second) is stopped after two of its ticks.
  const before = await countRows(alice, "countdown.tick");
  await click(alice, "countdown-long");
  await waitForRows(alice, "countdown.tick", before + 2);
  await alice.click("#cancel");
  await waitForRows(alice, "cancelled");
  result.ticksAtCancel = (await countRows(alice, "countdown.tick")) - before;
  await alice.waitForTimeout(1500); // three more ticks, had the server not stopped
  result.ticksAfterCancel = (await countRows(alice, "countdown.tick")) - before;

  // A server restart: every tab reconnects by itself and works again.
  result.identities = {};
  for (const [name, page] of Object.entries(tabs)) result.identities[name] = await page.innerText("#identity");
  console.log("RESTART");
  await nextLine();
  for (const page of Object.values(tabs)) await waitForStatus(page, "open");
  await waitForIdentity(alice, 1);
  await waitForIdentity(bob, 2);
  await click(bob, "health");
  await waitForRows(bob, "health");
  result.statuses = await alice.evaluate(() => window.statuses);

  for (const [name, page] of Object.entries(tabs)) {
    await page.bringToFront();
    await page.screenshot({ path: join(screenshots, `${name}.png`) });
    await page.locator("#status").screenshot({ path: join(screenshots, `${name}-status.png`) });
  }
  result.ok = true;
} catch (error) {
  result.error = String(error);
  process.exitCode = 1;
} finally {
  result.tabs = {};
  for (const [name, page] of Object.entries(tabs)) {
    result.tabs[name] = {
      identity: await page.innerText("#identity"),
      banner: await page.innerText("#banner"),
      rows: await rowsOf(page),
    };
  }
  await browser.close();
  stdin.close();
  console.log(JSON.stringify(result));
}
