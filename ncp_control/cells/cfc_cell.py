"""The closed-form continuous-time (CfC) cell, unwired (ncps ``CfCCell`` arithmetic)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ncp_control.cells.base import LiquidCell
from ncp_control.errors import UserError

MODES = ("default", "no_gate", "pure")


class LeCun(nn.Module):
    """LeCun's scaled tanh, ``1.7159 * tanh(0.666 x)``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """:param x: any tensor.
        :return: the activation, same shape."""
        return 1.7159 * torch.tanh(0.666 * x)


ACTIVATIONS: dict[str, type[nn.Module]] = {
    "lecun_tanh": LeCun,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "silu": nn.SiLU,
    "gelu": nn.GELU,
}


class CfCCell(LiquidCell):
    """A CfC cell (Hasani et al. 2022) with ncps' parameter names and arithmetic.

    ``default``: ``h' = tanh(ff1) * (1 - s) + s * tanh(ff2)``, ``s = sigmoid(time_a * dt + time_b)``;
    ``no_gate``: ``h' = tanh(ff1) + s * tanh(ff2)``;
    ``pure``: ``h' = -A exp(-dt (|w_tau| + |ff1|)) ff1 + A``;
    all heads read ``backbone([x, h])``.

    :param input_size: number of input features F.
    :param hidden_size: number of units N (state size).
    :param mode: ``"default"``, ``"no_gate"`` or ``"pure"``.
    :param backbone_activation: ``"lecun_tanh"``, ``"tanh"``, ``"relu"``, ``"silu"``, ``"gelu"``.
    :param backbone_units: width of the backbone MLP.
    :param backbone_layers: depth of the backbone (0: heads read ``[x, h]`` directly).
    :param backbone_dropout: dropout after backbone layers 2.. (as ncps).
    :param sparsity_mask: optional ``[N, F + N]`` 0/1 mask on ``ff1``/``ff2`` weights (wired layers).
    :param proj_size: if set, ``y = fc(h')`` with ``fc`` a linear map to ``proj_size``.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        mode: str = "default",
        backbone_activation: str = "lecun_tanh",
        backbone_units: int = 128,
        backbone_layers: int = 1,
        backbone_dropout: float = 0.0,
        sparsity_mask: torch.Tensor | None = None,
        proj_size: int | None = None,
    ) -> None:
        super().__init__()
        if mode not in MODES:
            raise UserError(f"mode must be one of {MODES}, got {mode!r}")
        if backbone_activation not in ACTIVATIONS:
            raise UserError(f"activation must be one of {sorted(ACTIVATIONS)}, got {backbone_activation!r}")
        if backbone_layers < 0 or (backbone_layers > 0 and backbone_units < 1):
            raise UserError("backbone_layers must be >= 0 and backbone_units >= 1 when backbone_layers > 0")
        if not 0.0 <= backbone_dropout < 1.0:
            raise UserError(f"backbone_dropout must be in [0, 1), got {backbone_dropout}")
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.state_size = hidden_size
        self.motor_size = hidden_size
        self.output_size = hidden_size if proj_size is None else proj_size
        self.mode = mode
        self.backbone_layers = backbone_layers
        self.backbone: nn.Sequential | None = None
        if backbone_layers > 0:
            activation = ACTIVATIONS[backbone_activation]
            layers: list[nn.Module] = [nn.Linear(input_size + hidden_size, backbone_units), activation()]
            for _ in range(1, backbone_layers):
                layers += [nn.Linear(backbone_units, backbone_units), activation()]
                if backbone_dropout > 0.0:
                    layers.append(nn.Dropout(backbone_dropout))
            self.backbone = nn.Sequential(*layers)
        width = input_size + hidden_size if backbone_layers == 0 else backbone_units
        self.sparsity_mask: torch.Tensor | None
        if sparsity_mask is not None:
            self.register_buffer("sparsity_mask", sparsity_mask.detach().abs().float())
        else:
            self.sparsity_mask = None
        self.ff1 = nn.Linear(width, hidden_size)
        if mode == "pure":
            self.w_tau = nn.Parameter(torch.zeros(1, hidden_size))
            self.A = nn.Parameter(torch.ones(1, hidden_size))
        else:
            self.ff2 = nn.Linear(width, hidden_size)
            self.time_a = nn.Linear(width, hidden_size)
            self.time_b = nn.Linear(width, hidden_size)
        for weight in self.parameters():
            if weight.dim() == 2:
                nn.init.xavier_uniform_(weight)
        self.fc = nn.Linear(hidden_size, proj_size) if proj_size is not None else None

    @property
    def activation_name(self) -> str | None:
        """The name of the backbone's activation (a key of :data:`ACTIVATIONS`), or None
        without a backbone or where the module is not exactly one of :data:`ACTIVATIONS`
        (a subclass, or a GELU with the tanh approximation)."""
        if self.backbone is None:
            return None
        module = self.backbone[1]
        for name, kind in ACTIVATIONS.items():
            if type(module) is kind:
                if isinstance(module, nn.GELU) and module.approximate != "none":
                    return None
                return name
        return None

    def step(self, x: torch.Tensor, h: torch.Tensor, ts: torch.Tensor) -> torch.Tensor:
        """The CfC update without projection.

        :param x: inputs ``[B, F]``.
        :param h: state ``[B, N]``.
        :param ts: elapsed time ``[B, 1]``.
        :return: the new state ``[B, N]``.
        """
        z = torch.cat([x, h], 1)
        if self.backbone is not None:
            z = self.backbone(z)
        mask = self.sparsity_mask
        ff1 = F.linear(z, self.ff1.weight * mask, self.ff1.bias) if mask is not None else self.ff1(z)
        if self.mode == "pure":
            return -self.A * torch.exp(-ts * (torch.abs(self.w_tau) + torch.abs(ff1))) * ff1 + self.A
        ff2 = F.linear(z, self.ff2.weight * mask, self.ff2.bias) if mask is not None else self.ff2(z)
        ff1 = torch.tanh(ff1)
        ff2 = torch.tanh(ff2)
        t_interp = torch.sigmoid(self.time_a(z) * ts + self.time_b(z))
        if self.mode == "no_gate":
            return ff1 + t_interp * ff2
        return ff1 * (1.0 - t_interp) + t_interp * ff2

    def forward(
        self, x: torch.Tensor, h: torch.Tensor, dt: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One step.

        :param x: inputs ``[B, F]``.
        :param h: state ``[B, N]``.
        :param dt: elapsed time ``[B]``.
        :return: ``(y [B, output_size], h_new [B, N])``.
        """
        h_new = self.step(x, h, dt.unsqueeze(-1))
        return (h_new if self.fc is None else self.fc(h_new)), h_new
