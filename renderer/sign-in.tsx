// Shown instead of the app when the browser is not signed in (no cookie from
// a one-time link, or the backend restarted): how to get a link, nothing else.
export function SignIn() {
  return (
    <div className="sign-in" role="main" aria-labelledby="sign-in-title">
      <section className="card">
        <h1 id="sign-in-title">Sign in to personae</h1>
        <p>This browser is not signed in to this personae backend, so it shows nothing of its sessions, personas or events.</p>
        <p>Get a one-time sign-in link: run this in a terminal on this machine, then open the link it prints (it works once, for 10 minutes):</p>
        <pre><code>personae app</code></pre>
        <p className="muted small">
          <code>personae app</code> attaches to the backend that is already running, or starts one. A backend started with{' '}
          <code>personae serve</code> prints its link when it starts. Signing in again is needed after the backend restarts.
        </p>
      </section>
    </div>
  );
}
