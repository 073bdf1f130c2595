"""``policy_kwargs`` in hyperparameter files are plain data: rl-zoo strings are parsed from their
syntax tree, never evaluated, and escapes are refused with an error naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml
from ncp_control.agents.policy_kwargs import (
    ACTIVATIONS,
    activation_name,
    parse_policy_kwargs,
    resolve_policy_kwargs,
)
from ncp_control.agents.runs import RunConfig, algorithm_arguments, load_hyperparams, train_run
from ncp_control.cli.cli import main
from torch import nn

from ncp_control import FullyConnected

torch.set_num_threads(1)


def test_rl_zoo_strings_and_yaml_mappings_give_the_same_plain_data() -> None:
    text = ("dict(ortho_init=False, activation_fn=nn.ReLU, net_arch=dict(pi=[64], vf=(64,)), log_std_init=-2, "
            "cell_kwargs={'mode': 'pure'}, features_extractor_kwargs=dict(features_dim=8), motor_logit_gain=None)")
    plain = {"ortho_init": False, "activation_fn": "ReLU", "net_arch": {"pi": [64], "vf": [64]}, "log_std_init": -2,
             "cell_kwargs": {"mode": "pure"}, "features_extractor_kwargs": {"features_dim": 8},
             "motor_logit_gain": None}
    assert parse_policy_kwargs(text) == plain
    assert parse_policy_kwargs(yaml.safe_load(yaml.safe_dump(plain))) == plain
    assert parse_policy_kwargs({"activation_fn": "nn.tanh"}) == {"activation_fn": "Tanh"}
    assert parse_policy_kwargs("dict(activation_fn=th.nn.ELU)") == {"activation_fn": "ELU"}
    assert parse_policy_kwargs("{'activation_fn': torch.nn.SiLU}") == {"activation_fn": "SiLU"}
    resolved = resolve_policy_kwargs(plain)
    assert resolved["activation_fn"] is nn.ReLU and resolved["net_arch"] == {"pi": [64], "vf": [64]}
    assert activation_name(nn.GELU) == "GELU" and set(ACTIVATIONS) >= {"Tanh", "ReLU", "ELU", "LeakyReLU"}
    wiring = resolve_policy_kwargs(parse_policy_kwargs({"wiring": FullyConnected(6, 1).to_dict()}))["wiring"]
    assert isinstance(wiring, FullyConnected) and wiring.units == 6


ESCAPES = [
    "__import__('pathlib').Path('{marker}').touch()",
    "dict(a=__import__('pathlib').Path('{marker}').touch())",
    "().__class__.__base__.__subclasses__()",
    "dict(a=().__class__.__base__.__subclasses__())",
    "dict(activation_fn=nn.functional.torch.os.system)",
    "dict(a=nn.functional.torch.os.system('touch {marker}'))",
    "dict(activation_fn=nn.Module)",
    "dict(a=open('{marker}', 'w'))",
    "dict(a=(lambda: 0)())",
    "dict(**{{'a': 1}})",
    "dict(a=[x for x in (1, 2)])",
    "dict(a=2 ** 1000000)",
    "dict(a=f'{{1}}')",
    "eval('1')",
]


@pytest.mark.parametrize("text", ESCAPES)
def test_code_in_policy_kwargs_is_refused_and_never_runs(text: str, tmp_path: Path) -> None:
    marker = tmp_path / "code-ran"
    source = text.format(marker=marker)
    with pytest.raises(ValueError, match="allowed|accepts") as error:
        parse_policy_kwargs(source)
    assert "policy_kwargs" in str(error.value)
    path = tmp_path / "hp.yml"
    path.write_text(yaml.safe_dump({"Pendulum-v1": {"policy_kwargs": source}}))
    with pytest.raises(ValueError, match=r"hp\.yml: policy_kwargs"):
        load_hyperparams(path, "Pendulum-v1")
    assert not marker.exists()


def test_bad_yaml_mappings_name_the_key() -> None:
    with pytest.raises(ValueError, match=r"policy_kwargs\.activation_fn: 'os\.system' is not an activation"):
        parse_policy_kwargs({"activation_fn": "os.system"})
    with pytest.raises(ValueError, match=r"policy_kwargs\.net_arch\.pi\[0\]: .* not allowed"):
        parse_policy_kwargs({"net_arch": {"pi": [{1, 2}]}})
    with pytest.raises(ValueError, match="wiring mapping needs a 'kind'"):
        parse_policy_kwargs({"wiring": {"units": 4}})
    with pytest.raises(ValueError, match="policy_kwargs must be a dict"):
        parse_policy_kwargs("[1, 2]")
    with pytest.raises(ValueError, match="cannot read"):
        parse_policy_kwargs("dict(a=")


def test_override_tables_are_checked_too(tmp_path: Path) -> None:
    path = tmp_path / "hp.yml"
    path.write_text(yaml.safe_dump({"Pendulum-v1": {"policy_kwargs": {"units": 8}, "policy_overrides": {
        "LTCPolicy": {"policy_kwargs": "dict(a=__import__('os'))"}}}}))
    with pytest.raises(ValueError, match="not allowed"):
        load_hyperparams(path, "Pendulum-v1")


def test_train_config_with_code_fails_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    marker = tmp_path / "code-ran"
    config = tmp_path / "hp.yml"
    config.write_text(yaml.safe_dump({"policy_kwargs": f"dict(a=__import__('pathlib').Path('{marker}').touch())"}))
    assert main(["train", "Pendulum-v1", "--config", str(config), "--out", str(tmp_path / "run"),
                 "--timesteps", "16", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "is not allowed" in err and "policy_kwargs" in err
    assert not marker.exists() and not (tmp_path / "run").exists()


def test_activation_names_train_and_stay_names_in_the_run_config(tmp_path: Path) -> None:
    hp = tmp_path / "hp.yml"
    hp.write_text('n_steps: 16\nbatch_size: 16\nseq_len: 8\nn_epochs: 1\n'
                  'policy_kwargs: "dict(units=6, activation_fn=nn.ReLU, net_arch=[8], critic=\'mlp\')"\n')
    params = load_hyperparams(hp, "Pendulum-v1")
    assert params["policy_kwargs"]["activation_fn"] == "ReLU"
    assert algorithm_arguments(params)["policy_kwargs"]["activation_fn"] is nn.ReLU
    config = RunConfig("Pendulum-v1", policy="CfCPolicy", timesteps=16, hyperparams=params, checkpoint_freq=0,
                       eval_freq=0)
    model = train_run(config, tmp_path / "run")
    assert model.policy.activation_fn is nn.ReLU
    stored = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())
    assert stored["hyperparams"]["policy_kwargs"]["activation_fn"] == "ReLU"
