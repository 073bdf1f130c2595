"""Features extractors in front of the recurrent network, chosen by name or class."""

from __future__ import annotations

import torch as th
from gymnasium import spaces
from stable_baselines3.common.preprocessing import is_image_space
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor, CombinedExtractor, FlattenExtractor
from torch import nn

from ncp_control.errors import UserError


class ConvHead(BaseFeaturesExtractor):
    """A small convolutional head for low-resolution camera images, in the spirit of the NCP
    lane-keeping study (strided convolutions, then a linear layer to a few features).

    :param observation_space: an image ``Box`` (channels first or last, as SB3 accepts).
    :param features_dim: number of features produced.
    :param channels: output channels of the convolution layers (kernel 5/3, stride 2).
    """

    def __init__(self, observation_space: spaces.Space, features_dim: int = 32, channels: tuple[int, ...] = (16, 32, 32)) -> None:
        if not (isinstance(observation_space, spaces.Box) and is_image_space(observation_space, check_channels=False)):
            raise UserError(
                "features_extractor 'cnn' needs an image observation (a uint8 Box of shape [C, H, W]), "
                f"got {observation_space}"
            )
        super().__init__(observation_space, features_dim)
        n_input = observation_space.shape[0]
        layers: list[nn.Module] = []
        for i, out in enumerate(channels):
            layers += [nn.Conv2d(n_input, out, kernel_size=5 if i == 0 else 3, stride=2), nn.ReLU()]
            n_input = out
        layers.append(nn.Flatten())
        self.cnn = nn.Sequential(*layers)
        with th.no_grad():
            n_flat = self.cnn(th.as_tensor(observation_space.sample()[None]).float()).shape[1]
        self.linear = nn.Sequential(nn.Linear(n_flat, features_dim), nn.ReLU())

    def forward(self, observations: th.Tensor) -> th.Tensor:
        """:param observations: ``[N, C, H, W]`` (already scaled to [0, 1]). :return: ``[N, features_dim]``."""
        return self.linear(self.cnn(observations))


#: Extractors by name.
EXTRACTORS: dict[str, type[BaseFeaturesExtractor]] = {
    "flatten": FlattenExtractor,
    "cnn": ConvHead,
    "combined": CombinedExtractor,
}


def resolve_extractor(
    observation_space: spaces.Space, extractor: str | type[BaseFeaturesExtractor] | None
) -> type[BaseFeaturesExtractor]:
    """Pick the features extractor class: by name, as given, or from the observation space.

    :param observation_space: the env's observation space.
    :param extractor: ``"flatten"``, ``"cnn"``, ``"combined"``, a class, or None (automatic:
        ``CombinedExtractor`` for Dict, ``ConvHead`` for images, ``FlattenExtractor`` otherwise).
    :return: the class.
    """
    if extractor is None:
        if isinstance(observation_space, spaces.Dict):
            return CombinedExtractor
        if isinstance(observation_space, spaces.Box) and is_image_space(observation_space, check_channels=False):
            return ConvHead
        return FlattenExtractor
    if isinstance(extractor, str):
        if extractor not in EXTRACTORS:
            raise UserError(f"features_extractor must be one of {sorted(EXTRACTORS)} or a class, got {extractor!r}")
        extractor = EXTRACTORS[extractor]
    if extractor is CombinedExtractor and not isinstance(observation_space, spaces.Dict):
        raise UserError(f"features_extractor 'combined' needs a Dict observation space, got {observation_space}")
    if isinstance(observation_space, spaces.Dict) and extractor is not CombinedExtractor and not issubclass(extractor, CombinedExtractor):
        if extractor in (FlattenExtractor, ConvHead):
            raise UserError(f"a Dict observation space needs features_extractor 'combined', got {extractor.__name__}")
    return extractor

