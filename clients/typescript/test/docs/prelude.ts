// What the documentation's TypeScript examples take from the application around them.

export {};

declare global {
  const auth: { currentAccessToken(): Promise<string | null>; token(): Promise<string> };
  const session: { token: string };
  function render(payload: unknown): void;
  function enough(): boolean;
  function showFieldError(loc: readonly (string | number)[], msg: string): void;
  function retryLater(): void;
  function showProgress(percent: number): void;
  function showReceipt(orderId: string, total: number): void;
  function reloadStream(name: string): void;
  const getToken: () => Promise<string | null>;
}
