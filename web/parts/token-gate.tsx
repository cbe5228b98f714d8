import { useEffect, useRef } from "preact/hooks";

/** The only thing shown before the server accepted a token: a form asking for one. */
export function TokenGate({ message, onSubmit }: { message: string | undefined; onSubmit: (token: string) => void }) {
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);
  const submit = (e: Event): void => {
    e.preventDefault();
    const token = input.current?.value.trim() ?? "";
    if (token !== "") onSubmit(token);
  };
  return (
    <main id="main" class="gate">
      <h1>buildplane</h1>
      <form onSubmit={submit} aria-labelledby="gate-title">
        <h2 id="gate-title">Sign in</h2>
        <p>This server needs a token. It is kept in this tab only.</p>
        <label for="token">Token</label>
        <input id="token" name="token" type="password" ref={input} autocomplete="off" required />
        <button type="submit">Sign in</button>
        {message && (
          <p class="error" role="alert">
            {message}
          </p>
        )}
      </form>
    </main>
  );
}
