/**
 * Frame and request ids: random UUIDs, as the server's envelope requires. `crypto.randomUUID()`
 * exists only in secure contexts (https, localhost), so a page served over plain http builds the
 * same version-4 UUID from `crypto.getRandomValues()`, which every context has.
 */

export function uuid(): string {
  const webCrypto = globalThis.crypto as Crypto | undefined;
  if (webCrypto === undefined) throw new TypeError("globalThis.crypto is missing: a UUID cannot be made");
  if (typeof webCrypto.randomUUID === "function") return webCrypto.randomUUID();
  const bytes = webCrypto.getRandomValues(new Uint8Array(16));
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40; // version 4
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80; // RFC 4122 variant
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
