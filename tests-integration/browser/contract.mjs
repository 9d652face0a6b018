// Opens a contract page in a real Chromium and reports what the AsyncAPI web component rendered.
// Usage: node contract.mjs <page URL>; CHROMIUM names the browser executable.
// Prints one JSON object: the rendered text, and every URL the page requested (to show none is a CDN).
// It exits 1 when the component renders no operation within 15 s.
import { chromium } from "playwright-core";

const [url] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium" });
const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
const requests = [];
page.on("request", (request) => requests.push(request.url()));

// What the component rendered, as text (it renders into its shadow root).
const rendered = () => {
  const component = document.querySelector("asyncapi-component");
  return (component?.shadowRoot ?? component)?.textContent ?? "";
};
let ok = true;
try {
  await page.goto(url);
  await page.waitForFunction(
    () => {
      const component = document.querySelector("asyncapi-component");
      return ((component?.shadowRoot ?? component)?.textContent ?? "").includes("Operations");
    },
    null,
    { timeout: 15_000 },
  );
} catch {
  ok = false;
}
const text = await page.evaluate(rendered);
console.log(JSON.stringify({ ok, text, requests }));
await browser.close();
process.exit(ok ? 0 : 1);
