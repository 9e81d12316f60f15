// Waiting for something to happen, never for a fixed time: until() returns as soon as its
// condition holds (checked after every 5 ms of I/O), and fails after a generous timeout naming
// what never happened. A flaky test is a bug; a fixed sleep is how most of them start.

export async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
