/** A clock the test moves by hand: expiry is tested by advancing time, never by sleeping. */
export interface FakeClock {
  (): number
  advance: (ms: number) => void
  set: (ms: number) => void
}

export function fakeClock (start = Date.UTC(2026, 10, 25, 12, 0, 0)): FakeClock {
  let now = start
  const clock = (() => now) as FakeClock
  clock.advance = (ms) => { now += ms }
  clock.set = (ms) => { now = ms }
  return clock
}
