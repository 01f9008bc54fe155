"""Checks, suites and their results.

A *check* is a small function ``fn(solver, game, ctx) -> Outcome`` that states what it
compares, the expected value and where it comes from, and its tolerance. A *suite*
groups the checks for one solver role and says on which games each runs. A *case* is
one (suite, check, game, solver, device) cell: the unit the runner executes, possibly in
another process, and the unit a `CheckResult` reports.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

import torch

from .errors import InvalidGameError, MFCheckError, SolverError
from .scope import EXEMPTION, Declined, scoped

PASS, FAIL, ERROR, SKIP, XFAIL = "pass", "fail", "error", "skip", "xfail"
#: The solver column of checks that test mfcheck's own kernels and answers.
HARNESS = "mfcheck"
#: Default false-failure rate of every stochastic check, per check.
FALSE_FAILURE_RATE = 1e-4


class Budget(str, Enum):
    QUICK = "quick"
    FULL = "full"


@dataclass(frozen=True)
class Outcome:
    """What a check function returns: the comparison and its verdict."""

    passed: bool
    measured: Any
    expected: Any
    tolerance: Any
    message: str
    skipped: bool = False
    artifacts: tuple[str, ...] = ()
    #: Why this solver is expected to fail this comparison (a baseline the literature
    #: reports failing): a failure is then reported as ``xfail`` and does not fail the run.
    expected_failure: str | None = None
    #: The solver's own declaration that made this a skip or an expected failure
    #: (``"baseline = True"``, ``"max_size = 8"``, ``"supports(game)"``): the report card
    #: lists it as an exemption, and ``mfcheck validate --strict`` fails it.
    exemption: str | None = None

    @classmethod
    def skip(cls, message: str, *, exemption: str | None = None) -> Outcome:
        return cls(False, None, None, None, message, skipped=True, exemption=exemption)


@dataclass
class CheckResult:
    suite: str
    check: str
    game: str
    solver: str
    device: str
    status: str
    measured: Any
    expected: Any
    tolerance: Any
    duration_s: float
    message: str
    artifacts: list[str] = field(default_factory=list)
    #: The declaration that exempted this case (status ``skip`` or ``xfail``), or None.
    exemption: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Context:
    """What a check may use besides the solver and the game."""

    seed: int
    budget: Budget
    device: torch.device
    report_dir: Path | None = None

    def seed_for(self, salt: int = 0) -> int:
        """The seed of the check's ``salt``-th independent stream."""
        return self.seed * 1_000_003 + salt

    def generator(self, salt: int = 0, device=None) -> torch.Generator:
        """A generator on ``device`` (default CPU) seeded with ``seed_for(salt)``."""
        return torch.Generator(device=device or "cpu").manual_seed(self.seed_for(salt))


GameFactory = Callable[[torch.device], Any]
CheckFn = Callable[[Any, Any, Context], Outcome]


@dataclass(frozen=True)
class Requires:
    """A check's ``applies`` predicate in words: ``who`` the check is for (``"learners that
    declare boltzmann = True"``) and, where a solver leaves it by a declaration of its own,
    which one (``opted_out_by="convergent = False"``: an exemption on the report card)."""

    test: Callable[[Any], bool]
    who: str
    opted_out_by: str | None = None

    def __call__(self, solver: Any) -> bool:
        return bool(self.test(solver))


@dataclass(frozen=True)
class CheckDef:
    name: str
    fn: CheckFn
    description: str
    games: Mapping[str, GameFactory] | None
    needs_solver: bool
    applies: Callable[[Any], bool]
    #: The probability that one case fails with a correct solver (an upper bound where
    #: the check is conservative); 0 for a deterministic check; None where not stated.
    false_failure_rate: float | None = None


@dataclass(frozen=True)
class Case:
    """One cell of a run; plain strings, so it crosses process boundaries."""

    suite: str
    check: str
    game: str
    solver: str  # a solver spec ("module:attr[key]"), or HARNESS
    device: str

    @property
    def id(self) -> str:
        return f"{self.suite}::{self.check}[{self.game}|{self.solver}|{self.device}]"


class Suite:
    """A named collection of checks for one solver role (``planner``, ``sampler``, ...), or
    for several (``role=("learner", "simulator")``): each check's ``applies`` then says
    which solvers it takes."""

    def __init__(self, name: str, *, role: str | tuple[str, ...], description: str,
                 reference_solvers: list[str]) -> None:
        self.name = name
        self.roles = (role,) if isinstance(role, str) else tuple(role)
        self.role = "/".join(self.roles)
        self.description = description
        self.reference_solvers = reference_solvers
        self.checks: dict[str, CheckDef] = {}

    def check(self, name: str, *, games: Mapping[str, GameFactory] | None = None,
              needs_solver: bool = True, applies: Callable[[Any], bool] = lambda solver: True,
              false_failure_rate: float | None = None):
        """Register ``fn(solver, game, ctx) -> Outcome`` as check ``name`` of this suite.

        ``needs_solver=False`` marks a check of mfcheck itself (solver column ``mfcheck``);
        ``applies(solver)`` says whether a solver claims what the check tests (a `Requires`
        says it in words, for "no check applies" and the report card).
        ``false_failure_rate`` is the probability that one case fails although the solver
        is correct: 0 for a deterministic check, the check's α for a statistical one (all
        its tests together). `mfcheck sweep` counts failures over seeds against it.
        """
        if false_failure_rate is not None and not 0 <= false_failure_rate < 1:
            raise ValueError(f"check {self.name}::{name}: false_failure_rate must lie in "
                             f"[0, 1), got {false_failure_rate!r}")

        def register(fn: CheckFn) -> CheckFn:
            doc = (fn.__doc__ or "").strip().splitlines()
            self.checks[name] = CheckDef(name, fn, doc[0] if doc else name, games,
                                         needs_solver, applies, false_failure_rate)
            return fn
        return register

    def cases(self, solvers: list[tuple[str, Any]], devices: list[str]) -> list[Case]:
        """Every (check, game, solver, device) cell for ``solvers`` = [(spec, object)]."""
        out = []
        for check in self.checks.values():
            games = list(check.games) if check.games else ["-"]
            if check.needs_solver:
                who = [spec for spec, solver in solvers
                       if self.accepts(solver) and check.applies(solver)]
            else:
                who = [HARNESS]
            out += [Case(self.name, check.name, g, s, d) for s in who for g in games for d in devices]
        return out

    def accepts(self, solver: Any) -> bool:
        from .protocols import role_of
        return role_of(solver) in self.roles

    def why_not(self, solver: Any) -> str | None:
        """None if a check of this suite runs on ``solver``; else why none does, one phrase
        (``"ising-mfq applies to learners that declare boltzmann = True"``)."""
        if not self.accepts(solver):
            return f"{self.name} applies to " + " and ".join(f"{r}s" for r in self.roles)
        own = [c for c in self.checks.values() if c.needs_solver]
        if not own:
            return f"{self.name} checks mfcheck itself, no solver"
        if any(c.applies(solver) for c in own):
            return None
        who = dict.fromkeys(getattr(c.applies, "who", f"the solvers {c.name} applies to")
                            for c in own)
        return f"{self.name} applies to " + " or ".join(who)

    def run(self, case: Case, solver: Any, ctx: Context) -> CheckResult:
        """Run one case; every failure of the solver or the game becomes a result, never a raise.

        The check gets the solver through `mfcheck.scope.scoped`: where the solver declares
        ``supports`` and declines what a call is about, the case is ``skip`` with its reason
        (exemption ``supports(game)``), in every suite alike."""
        check = self.checks[case.check]
        start = time.perf_counter()
        try:
            game = check.games[case.game](ctx.device) if check.games else None
        except MFCheckError as exc:
            return self._result(case, ERROR, start, f"game could not be built: {exc}")
        try:
            outcome = check.fn(scoped(solver), game, ctx)
        except Declined as exc:  # the solver's supports(...) declined (or broke) a call
            if exc.error:
                return self._result(case, ERROR, start, exc.message)
            outcome = Outcome.skip(exc.message, exemption=EXEMPTION)
        except SolverError as exc:
            return self._result(case, ERROR, start, str(exc))
        except InvalidGameError as exc:
            return self._result(case, ERROR, start, f"invalid game: {exc}")
        except Exception as exc:  # a bug in a check: report it with where it happened
            where = traceback.extract_tb(exc.__traceback__)[-1]
            return self._result(case, ERROR, start, f"check crashed: {type(exc).__name__}: "
                                f"{exc} ({Path(where.filename).name}:{where.lineno})")
        status = SKIP if outcome.skipped else PASS if outcome.passed else \
            XFAIL if outcome.expected_failure else FAIL
        message = outcome.message
        if outcome.expected_failure and not outcome.skipped:
            message = (f"expected to fail ({outcome.expected_failure}): {message}"
                       if status == XFAIL else
                       f"passed, though expected to fail ({outcome.expected_failure}): {message}")
        return CheckResult(case.suite, case.check, case.game, case.solver, case.device, status,
                           _plain(outcome.measured), _plain(outcome.expected),
                           _plain(outcome.tolerance), time.perf_counter() - start,
                           message, list(outcome.artifacts),
                           outcome.exemption if status == SKIP else
                           outcome.exemption or "declared expected failure" if status == XFAIL
                           else None)

    @staticmethod
    def _result(case: Case, status: str, start: float, message: str) -> CheckResult:
        return CheckResult(case.suite, case.check, case.game, case.solver, case.device, status,
                           None, None, None, time.perf_counter() - start, message)


def _plain(x: Any) -> Any:
    """JSON-friendly numbers: tensors and numpy scalars become floats or lists."""
    if isinstance(x, torch.Tensor):
        return x.item() if x.numel() == 1 else x.tolist()
    if hasattr(x, "item") and getattr(x, "ndim", 1) == 0:
        return x.item()
    if hasattr(x, "tolist"):
        return x.tolist()
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    return x
