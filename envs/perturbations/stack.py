"""Several perturbations in one wrapper layer, with exactly the results of the nested stack.

Every fusable perturbation (all but the timing ones) steps as ``_before`` (change the action
or the physics), the inner step, ``_after`` (change the observation, update state). A
:class:`Stack` runs these hooks of all its perturbations around one inner step, so a stack
of several perturbations costs one Python wrapper layer instead of one per perturbation.
The perturbations themselves are built nested as usual (each sees the spaces of the ones
inside it), and reset, step and close run their parts in the nested order, so outputs,
random numbers and ``info["perturbation"]`` are identical to the nested wrappers'.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import gymnasium as gym
from ncp_control.envs.perturbations.base import Hook, Perturbation, StepResult

if TYPE_CHECKING:
    from ncp_control.envs.perturbations.registry import Entry


class Stack(gym.Wrapper, gym.utils.RecordConstructorArgs):
    """Fusable perturbations run in one layer (see the module docstring).

    :param env: the environment to perturb.
    :param perturbations: ``(name, level)`` or ``(name, level, kwargs)`` entries, the first
        innermost, all of fusable perturbations.
    :raises ValueError: for a perturbation that cannot be fused (timing perturbations), or
        for any error :func:`~ncp_control.envs.perturbations.make` raises.
    """

    def __init__(self, env: gym.Env, perturbations: Sequence[Entry]) -> None:
        from ncp_control.envs.perturbations.registry import get, make

        gym.utils.RecordConstructorArgs.__init__(self, perturbations=[tuple(entry) for entry in perturbations])
        entries = list(perturbations)
        for entry in entries:
            if not get(entry[0]).fusable():
                raise ValueError(f"perturbation {entry[0]!r} changes how the inner step runs and cannot be "
                                 "fused; wrap it on its own (compose does this)")
        parts: list[Perturbation] = []
        outer: gym.Env = env
        for name, level, *rest in entries:
            outer = make(outer, name, level, **(rest[0] if rest else {}))
            parts.append(outer)  # type: ignore[arg-type]
        super().__init__(env)
        #: the perturbations, innermost first (nested among themselves, but only ever driven from here).
        self.perturbations: tuple[Perturbation, ...] = tuple(parts)
        self.observation_space = outer.observation_space
        self.action_space = outer.action_space
        active = [p for p in parts if p.active]
        self._active = active
        self._scheduled = [p for p in active if not p._constant]
        #: parts whose step index is kept counting (the others' ``_t`` is not used, and not kept).
        self._counted = [p for p in active if not p._constant or p.uses_step_index]
        self._befores: list[Hook] = []
        self._afters: list[Hook] = []
        self._records: list[dict[str, Any]] = []

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        """Reset as the nested stack would: each perturbation's preparation outermost first,
        the inner reset, then each one's start of episode innermost first.

        :param seed: the episode seed (also seeds every perturbation's generator).
        :param options: reset options passed on to the environment.
        :return: the first observation and the info dict.
        """
        for part in reversed(self.perturbations):
            options = part._begin_reset(seed, options)
        obs, info = self.env.reset(seed=seed, options=options)
        for part in self.perturbations:
            obs, info = part._end_reset(obs, info)
        hooks = [part._hooks or part._step_hooks() for part in self._active]
        self._befores = [before for before, _ in reversed(hooks) if before is not None]
        self._afters = [after for _, after in hooks if after is not None]
        self._records = [part.current_record() for part in self.perturbations]
        return obs, info

    def step(self, action: Any) -> StepResult:
        """Step under every perturbation: their ``_before`` hooks outermost first, the inner
        step, their ``_after`` hooks innermost first.

        :param action: the agent's action.
        :return: observation, reward, terminated, truncated, info.
        """
        for part in self._scheduled:
            part.magnitude = part.magnitude_at(part._t)
        for before in self._befores:
            action = before(action)
        obs, reward, terminated, truncated, info = self.env.step(action)
        for after in self._afters:
            obs = after(obs, info)
        for part in self._counted:
            part._t += 1
        records = self._records
        if self._scheduled:
            records = self._records = [part.current_record() for part in self.perturbations]
        previous = info.get("perturbation")
        info["perturbation"] = [*previous, *records] if previous else records.copy()
        return obs, reward, terminated, truncated, info

    def close(self) -> None:
        """Undo every perturbation's changes (outermost first), then close the environment."""
        for part in reversed(self.perturbations):
            if part.active:
                part._restore()
        super().close()

    def __repr__(self) -> str:
        parts = " + ".join(f"{p.name}@{p.level}" for p in self.perturbations)
        return f"<Stack({parts}){self.env}>"
