"""Suite ``battle``: learners trained by self-play on MAgent2's battle (Yang et al. 2018,
§5.3; docs/references.md#yang2018-battle; the game: `mfcheck.adapters.magent`).

A learner trains by self-play: it controls both armies of `BattleEnv` (parameter sharing,
the team id in every observation). Its policy then plays evaluation games that mfcheck
runs itself, against a uniformly random army (``beats-random``) or against the reference
learners trained with the same budget (``round-robin``, full budget). A game is won by
the army with more survivors at its end (more kills: both start with the same number),
lost with fewer, drawn with as many; the learner plays red in half of the games and blue
in the other half, so no side of the map is favoured.

The statistic: a replica's **score** is (wins + ½·draws)/games, a draw counting half as
in chess, so a score above ½ means it won more games than it lost. A replica *beats* its
opponent when its score is above ½. The replicas of the environment are independent seeds
(the learner protocol), so their scores are independent whatever the correlation of the
games within a replica (they share one trained policy). A check passes only when it is
*shown* that more replicas beat the opponent than lose to it: the exact one-sided sign
test over replicas (`mfcheck.stats.sign_test`, ties dropped) at the false-failure rate,
which is exact for the discrete, skewed scores that a Student-t bound on their mean
mis-states (docs/statistics.md, "Measured false-failure rates"). At 1e-4 that needs at
least 14 deciding replicas, all of them winning; 16 replicas are played.

Without magent2 (``pip install 'mfcheck[battle]'``) every check skips and says why.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from mfcheck import stats
from mfcheck.adapters.magent import MAP_SIZE, MAX_CYCLES, BattleEnv, missing_reason
from mfcheck.check import FALSE_FAILURE_RATE, Budget, Context, Outcome, Requires, Suite
from mfcheck.envs import sample_actions
from mfcheck.boundary import learner_policy
from mfcheck.protocols import solver_name
from mfcheck.report import atomic_write, file_stem, new_figure, save_figure

ALPHA = FALSE_FAILURE_RATE
#: A replica beats its opponent when its score (wins + ½ draws)/games is above this.
EVEN_SCORE = 0.5

suite = Suite("battle", role="learner",
              description="MAgent2 battle (Yang et al. 2018): a learner trained by self-play "
                          "beats a random army in significantly more replicas than it loses "
                          "(quick: 12 vs 12; full: 64 vs 64) and, full, a mean-field learner "
                          "beats IL and AC head to head (sign tests over replicas)",
              # The issue's claim is MF-Q's; the other learners' quick results (MF-AC and AC
              # do not beat a random army at this budget) are in docs/battle.md.
              reference_solvers=["mfcheck.reference.marl:NEURAL_LEARNERS[mf-q-mlp]"])


@dataclass(frozen=True)
class Level:
    """A budget level: the map (its size sets the armies: 64 a side on 40×40, 12 on 20×20)
    and game length, ``replicas`` independent seeds trained at once for ``train_steps``
    steps (one step = every agent of every replica acts once), then ``games`` evaluation
    games per replica against each opponent."""

    map_size: int
    max_cycles: int
    replicas: int
    train_steps: int
    games: int


LEVELS = {
    # A case may run 300 s under --quick. 64 a side costs ~21 ms of CPU per self-play step
    # of 8 replicas (mf-q-mlp, one thread): ~2000 steps (5 games) on 8 replicas, whose
    # bound (t₇ = 7.1 SE) cannot tell a 25% win rate from 50%. 12 a side affords 16
    # replicas and 10 self-play games each: ~60 s for mf-q-mlp, ~90 s for mf-ac-mlp (the
    # slowest) on an idle machine, leaving room for a loaded one.
    Budget.QUICK: Level(map_size=20, max_cycles=MAX_CYCLES, replicas=16, train_steps=4_000,
                        games=4),
    # Yang et al.: 64 vs 64 on 40×40, 2000 self-play games of up to 400 steps; 16 replicas,
    # because the sign test at 1e-4 cannot pass with fewer than 14
    Budget.FULL: Level(map_size=MAP_SIZE, max_cycles=MAX_CYCLES, replicas=16,
                       train_steps=2_000 * MAX_CYCLES, games=20),
}


def uniform_policy(obs: torch.Tensor, mean_action: torch.Tensor) -> torch.Tensor:
    """The random army: every action with probability 1/21."""
    n_actions = mean_action.shape[-1]
    return torch.full(mean_action.shape, 1.0 / n_actions, dtype=mean_action.dtype,
                      device=mean_action.device)


def play(env: BattleEnv, policy, opponent, games: int, generator: torch.Generator
         ) -> torch.Tensor:
    """``games`` games per replica of ``policy`` against ``opponent``, ``policy`` red in the
    even games and blue in the odd ones: its survivors minus the opponent's at the end of
    each game, ``(batch, games)`` (> 0: it won)."""
    margin = torch.zeros(env.batch, games, dtype=torch.long, device=env.device)
    played = torch.zeros(env.batch, dtype=torch.long, device=env.device)
    replicas = torch.arange(env.batch, device=env.device)
    ob = env.reset(generator)
    while bool((played < games).any()):
        side = played % 2  # the policy's team in each replica's current game
        mine = (env.team[None, :] == side[:, None])[..., None]
        probs = torch.where(mine, policy(ob.obs, ob.mean_action),
                            opponent(ob.obs, ob.mean_action))
        ob = env.step(sample_actions(probs, generator))
        ended = ob.game_over & (played < games)
        if bool(ended.any()):
            b, s = replicas[ended], side[ended]
            margin[b, played[ended]] = ob.survivors[b, s] - ob.survivors[b, 1 - s]
            played += ended.long()
    return margin


#: Whether a learner can learn on feature observations: not if it declares a table
#: (``approximator = "tabular"``), which cannot index them.
takes_features = Requires(lambda learner: getattr(learner, "approximator", None) != "tabular",
                          'learners that take feature observations (not approximator = "tabular")')
#: The round-robin is for mean-field learners (``uses_mean_action = True``) that take features.
_MEAN_FIELD_FEATURES = Requires(
    lambda s: takes_features(s) and getattr(s, "uses_mean_action", False),
    'mean-field learners (uses_mean_action = True) that take feature observations')


def _env(level: Level, ctx: Context) -> BattleEnv:
    return BattleEnv(map_size=level.map_size, max_cycles=level.max_cycles,
                     batch=level.replicas, device=ctx.device)


def _train(learner, level: Level, ctx: Context):
    env = _env(level, ctx)
    return env, learner_policy(learner, env, steps=level.train_steps, seed=ctx.seed)


def scores(margin: torch.Tensor) -> torch.Tensor:
    """Per replica, (wins + ½·draws)/games from the survivor margins ``(replicas, games)``."""
    return ((margin > 0).double() + 0.5 * (margin == 0).double()).mean(1).cpu()


def beats_test(margin: torch.Tensor, alpha: float = ALPHA):
    """(sign test, mean score ± SE across replicas) for the margins ``(replicas, games)``:
    the sign test passes when significantly more replicas score above ½ than below (exact,
    false-pass rate ≤ α); the mean score is reported, not tested."""
    s = scores(margin)
    return stats.sign_test(s, EVEN_SCORE, alpha), stats.across_seeds(s)


def _verdict(test) -> str:
    decided = test.above + test.below
    return (f"{test.above} replicas beat it, {test.below} lost to it, {test.ties} even "
            f"(score ½): sign test p = {test.p_value:.2g}"
            + ("" if decided == 0 or test.needed <= decided else
               f"; with {decided} deciding replicas no count can pass at {test.alpha:g}")
            + (f"; passing needs ≥ {test.needed} of {decided}" if test.needed <= decided
               else ""))


def _record(margin: torch.Tensor) -> str:
    n = margin.numel()
    won, drawn = int((margin > 0).sum()), int((margin == 0).sum())
    return f"won {won}, drew {drawn}, lost {n - won - drawn} of {n} games"


# unstated: the sign test's α bounds a false pass (a claim); a correct learner fails with
# 1 − power, not computed
@suite.check("beats-random", applies=takes_features, false_failure_rate=None)
def beats_random(learner, game, ctx: Context) -> Outcome:
    """Trained by self-play, it beats a random army (score (wins + ½ draws)/games above ½) in significantly more replicas than it loses to it (exact sign test over replicas, rate 1e-4)."""
    if (why := missing_reason()):
        return Outcome.skip(why)
    level = LEVELS[ctx.budget]
    env, policy = _train(learner, level, ctx)
    generator = ctx.generator(1, ctx.device)
    margin = play(env, policy, uniform_policy, level.games, generator)
    test, score = beats_test(margin)
    kills = stats.across_seeds(margin.double().mean(1).cpu().numpy())
    decided = test.above + test.below
    return Outcome(
        test.passed, test.above / level.replicas,
        f">= {min(test.needed, decided + 1)}/{level.replicas} replicas", ALPHA,
        f"{solver_name(learner)} after {level.train_steps} self-play steps on "
        f"{level.replicas} replicas, {env.army} vs {env.army} on {level.map_size}x"
        f"{level.map_size}, {level.games} games per replica against a uniformly random army: "
        f"{_record(margin)}; score (wins + ½ draws)/games {score.mean:.3f} ± "
        f"{score.standard_error:.3f} (mean ± SE across replicas); survivor margin "
        f"{kills.mean:+.1f} ± {kills.standard_error:.1f} agents per game. {_verdict(test)} "
        f"(one-sided exact binomial, rate {ALPHA:g}): "
        + ("shown to beat a random army" if test.passed else
           "FAIL, not shown to beat a random army"))


# unstated: as beats-random (sign tests claiming wins: α is a false-pass rate)
@suite.check("round-robin",
             applies=_MEAN_FIELD_FEATURES, false_failure_rate=None)
def round_robin(learner, game, ctx: Context) -> Outcome:
    """A mean-field learner beats IL and AC head to head after equal self-play (Yang et al.)."""
    if (why := missing_reason()):
        return Outcome.skip(why)
    if ctx.budget is Budget.QUICK:
        return Outcome.skip("paper-scale (every reference learner trains 2000 self-play "
                            "games): run with --full")
    from mfcheck.reference.marl import NEURAL_LEARNERS

    me = solver_name(learner)
    players = {me: learner}
    for reference in NEURAL_LEARNERS.values():
        players.setdefault(solver_name(reference), reference)
    baselines = [name for name, p in players.items() if getattr(p, "baseline", False)]
    if not baselines:
        return Outcome.skip("mfcheck.reference.marl.NEURAL_LEARNERS has no baseline (IL, AC)")
    level = LEVELS[ctx.budget]
    policies = {name: _train(p, level, ctx)[1] for name, p in players.items()}
    env = _env(level, ctx)
    generator = ctx.generator(2, ctx.device)
    names = list(policies)
    margins = {}
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            margins[a, b] = play(env, policies[a], policies[b], level.games, generator)
            margins[b, a] = -margins[a, b]
    artifacts = (write_round_robin(ctx.report_dir, me, names, margins)
                 if ctx.report_dir is not None else [])
    alpha = stats.bonferroni(ALPHA, len(baselines))
    verdicts = []
    for name in baselines:
        test, score = beats_test(margins[me, name], alpha)
        verdicts.append((test, f"vs {name}: {_record(margins[me, name])}, score {score.mean:.3f} "
                               f"± {score.standard_error:.3f}; {_verdict(test)}"))
    worst = max(verdicts, key=lambda v: v[0].p_value)[0]
    return Outcome(
        all(v[0].passed for v in verdicts), worst.above / level.replicas,
        f"sign test p <= {alpha:.2g}", alpha,
        f"{me} after {level.train_steps} self-play steps on {level.replicas} replicas, "
        f"{env.army} vs {env.army} on {level.map_size}x{level.map_size}, "
        f"{level.games} games per replica and pair: " + "; ".join(v[1] for v in verdicts)
        + f". Passes only when, against every baseline, significantly more replicas beat it "
        f"(score above ½) than lose to it (exact sign test at {alpha:.2g}: Bonferroni over "
        f"{len(baselines)} baselines at {ALPHA:g}); the whole matrix is in the report",
        artifacts=tuple(artifacts))


def write_round_robin(report_dir, learner: str, names: list[str], margins: dict) -> list[str]:
    """``battle-round-robin-<learner>.csv`` (won, drawn, lost, mean score, replicas above and
    below ½ and the sign test's p-value for every ordered pair) and ``.png`` (a heat map of
    the mean scores) in ``report_dir``."""
    report_dir.mkdir(parents=True, exist_ok=True)
    rows, rate = [], torch.full((len(names), len(names)), float("nan"))
    for (i, a), (j, b) in ((p, q) for p in enumerate(names) for q in enumerate(names)):
        if a == b:
            continue
        m = margins[a, b]
        test, score = beats_test(m)
        rate[i, j] = score.mean
        rows.append(f"{a},{b},{int((m > 0).sum())},{int((m == 0).sum())},{int((m < 0).sum())},"
                    f"{score.mean:.4f},{test.above},{test.below},{test.p_value:.3g}")
    stem = "battle-round-robin-" + file_stem(learner)
    csv = report_dir / f"{stem}.csv"
    atomic_write(csv, "player,opponent,won,drawn,lost,score,replicas_above,replicas_below,p_value\n"
                 + "\n".join(rows) + "\n")
    fig, ax = new_figure(figsize=(1.3 * len(names) + 2, 1.1 * len(names) + 1.5))
    image = ax.imshow(rate.numpy(), vmin=0, vmax=1, cmap="RdBu")
    for i in range(len(names)):
        for j in range(len(names)):
            if i != j:
                dark = abs(float(rate[i, j]) - 0.5) > 0.3  # the ends of the colour map
                ax.text(j, i, f"{rate[i, j]:.2f}", ha="center", va="center", fontsize=8,
                        color="white" if dark else "black")
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right")
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("opponent")
    ax.set_ylabel("player")
    fig.colorbar(image, label="score (wins + ½ draws)/games")
    return [str(csv), save_figure(fig, report_dir / f"{stem}.png")]
