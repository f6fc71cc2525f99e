"""The CPU thread count of a running solve, chosen by timing the solve's own iterations
(``threads="auto"``).

A second thread pays or costs depending on the machine's state, not on the problem alone: on
a loaded machine OpenMP workers wait for a descheduled peer at every operation (RESULTS,
"Threads").  The load can change during a solve, so the tuner starts at one thread and from
time to time tries the neighbouring count on the ladder 1, 2, 4, ..., max for a short probe of
plain iterations; it abandons a probe at the first iteration that is far slower, moves to the
candidate when the probe's mean iteration is clearly faster, and moves back unless the next
full window there confirms it.  Means, not medians: on a loaded machine most iterations at two
threads are fast and a few take a scheduler slice, and the slow few are the cost.  Probes that
do not pay are spaced out, doubling up to ``MAX_PERIOD`` apart.
"""
from __future__ import annotations

import time

import torch

FIRST_PROBE = 48          # plain iterations at the current count before a probe
WINDOW = 24               # plain iterations whose mean is a count's measured cost
PROBE_ITERATIONS = 12     # iterations timed at the candidate count (the first is not counted)
MAX_PERIOD = 3072         # probes that did not pay back off, doubling, to this spacing
ADOPT = 0.9               # move when the probe's mean is below this fraction of the current's
ABORT = 2.5               # abandon a candidate at an iteration this many times the current mean
WAKE_ALLOWANCE = 5e-4     # ... plus this many seconds on a probe's first iteration (a quiet pool wakes in ~0.1 ms)
SLOWDOWN = 1.5            # a window this much slower than the last at the same count re-arms the probes
PROBE_BUDGET = 20.0       # a probe waits until this many times the last failed probe's extra cost was spent


_LAST_CHOICE = [None]     # the count the last tuner of this process ended at
# counts this process has run a solver iteration at: the first iteration at a new count may
# carry one-time costs (the OpenMP pool's threads; torch.compile'd kernels recompile per
# count, ~5 s), which say nothing about the count's speed, so it is not judged
_SEEN: set[int] = set()


def start_threads(default: int) -> int:
    """Where a solve's tuner starts: where the previous one of this process ended, else
    ``default``.  A short solve (a 40-iteration PnP loop) ends before a probe could move it."""
    return _LAST_CHOICE[0] if _LAST_CHOICE[0] is not None else default


def thread_ladder(max_threads: int) -> list[int]:
    """1, 2, 4, ... and ``max_threads`` itself."""
    ladder = [1]
    while ladder[-1] * 2 <= max_threads:
        ladder.append(ladder[-1] * 2)
    if ladder[-1] != max_threads:
        ladder.append(max_threads)
    return ladder


class ThreadTuner:
    """Sets ``torch.set_num_threads`` during a solve from timings passed to ``tick``.

    The solver calls ``tick(plain, width)`` after every iteration: ``plain`` says whether it
    was an ordinary iteration (checks and restart baselines do more work and are not
    timed), ``width`` the number of columns iterated (a new width resets the timings, as
    an iteration's work changed).  ``history`` lists (tick, threads) at each change."""

    def __init__(self, max_threads: int, start: int = 1):
        self.ladder = thread_ladder(max(1, int(max_threads)))
        self.level = max(i for i, t in enumerate(self.ladder) if t <= max(1, start))
        self.means: dict[int, float] = {}    # level -> mean seconds of its latest full window
        self.window: list[float] = []        # plain-iteration seconds at the current level
        self.probe: list[float] | None = None
        self.candidate = 0
        self.confirming = None               # the level moved from, until a window confirms
        self.direction = 1
        self.period = self.countdown = FIRST_PROBE
        self.spent = 0.0                     # plain seconds since the last probe
        self.probe_cost = 0.0                # extra seconds the last failed probe cost
        self.width = None
        self.ticks = 0
        self.history = [(0, self.threads)]
        _SEEN.add(self.threads)
        torch.set_num_threads(self.threads)
        self.last = time.perf_counter()

    @property
    def threads(self) -> int:
        return self.ladder[self.level]

    def close(self):
        """Remember the count chosen: ``start_threads`` offers it to the next solve of the
        process.  Restoring torch's own count is the caller's (in a ``finally``)."""
        _LAST_CHOICE[0] = self.threads

    def restart_clock(self):
        """The next ``tick`` times from now (work in between, such as a check's tail, is not counted)."""
        self.last = time.perf_counter()

    def tick(self, plain: bool, width: int, count: int = 1):
        """``count`` > 1: that many plain iterations ran in one call (the C kernel's blocks),
        each taken to cost an equal share; the rest of the block is not judged once the
        count was changed by one of them (they ran at the old count)."""
        now = time.perf_counter()
        dt, self.last = (now - self.last) / count, now
        threads = torch.get_num_threads()
        for _ in range(count):
            self._tick(plain, width, dt)
            if torch.get_num_threads() != threads:
                break

    def _tick(self, plain: bool, width: int, dt: float):
        self.ticks += 1
        if not plain or len(self.ladder) == 1:
            return
        if width != self.width:              # an iteration's work changed: start measuring anew
            self.width, self.window, self.means, self.confirming = width, [], {}, None
            if self.probe is not None:
                self._give_up(penalise=False)
            return
        if self.probe is not None:
            self._probe_tick(dt)
            return
        self.window.append(dt)
        self.spent += dt
        if self.confirming is not None and dt > ABORT * self.means[self.confirming]:
            self._move_back()
            return
        if len(self.window) == WINDOW:
            mean, before = sum(self.window) / WINDOW, self.means.get(self.level)
            if before is not None and mean > SLOWDOWN * before:   # the machine changed: look again soon
                self.period = FIRST_PROBE
                self.countdown = min(self.countdown, FIRST_PROBE)
                self.probe_cost = 0.0
            self.means[self.level] = mean
            self.window = []
            if self.confirming is not None:
                if self.means[self.level] < self.means[self.confirming]:
                    self.confirming = None           # confirmed: keep going the same way
                    self.period = FIRST_PROBE
                else:
                    self._move_back()
                    return
        self.countdown -= 1
        if (self.countdown <= 0 and self.confirming is None and self.level in self.means
                and self.spent >= PROBE_BUDGET * self.probe_cost):
            up, down = self.level + self.direction, self.level - self.direction
            self.candidate = up if 0 <= up < len(self.ladder) else down
            self.probe = []
            torch.set_num_threads(self.ladder[self.candidate])

    def _probe_tick(self, dt: float):
        count = self.ladder[self.candidate]
        if count not in _SEEN:               # a first iteration at this count: one-time costs
            _SEEN.add(count)
            return
        self.probe.append(dt)
        current = self.means[self.level]
        if dt > ABORT * current + (WAKE_ALLOWANCE if len(self.probe) == 1 else 0.0):
            self._give_up()
        elif len(self.probe) == 1:           # the first may wake the thread pool: not counted
            return
        elif len(self.probe) >= PROBE_ITERATIONS:
            if sum(self.probe[1:]) / (len(self.probe) - 1) < ADOPT * current:
                self.direction = 1 if self.candidate > self.level else -1
                self.confirming, self.level = self.level, self.candidate
                self.probe, self.window = None, []
                self.countdown = self.period
                self._set()
            else:
                self._give_up()

    def _move_back(self):
        tried = self.window
        self.level, self.confirming, self.window = self.confirming, None, []
        self._give_up()
        self.probe_cost = max(0.0, sum(tried) - len(tried) * self.means[self.level])

    def _give_up(self, penalise: bool = True):
        if penalise:
            self.direction = -self.direction
            self.period = min(2 * self.period, MAX_PERIOD)
            if self.probe:
                current = self.means.get(self.level, 0.0)
                self.probe_cost = max(0.0, sum(self.probe) - len(self.probe) * current)
        self.probe, self.spent = None, 0.0
        self.countdown = self.period
        self._set()

    def _set(self):
        torch.set_num_threads(self.threads)
        if self.history[-1][1] != self.threads:
            self.history.append((self.ticks, self.threads))
