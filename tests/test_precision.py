"""colorize.precision: which dtype policy "auto" picks on which machine, and that a run trained in
mixed bfloat16 keeps float32 outputs, records its precision and predicts in float32."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from colorize import config, models, precision
from colorize import train as training
from colorize.config import ColorizeError
from colorize.train import TrainSettings

pytestmark = [pytest.mark.usefixtures("home"),
              pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")]

AMX_XEON = "processor\t: 0\nflags\t\t: fpu sse2 avx512f amx_bf16 amx_tile amx_int8\n"
EPYC = "processor\t: 0\nflags\t\t: fpu sse2 avx2 fma\n"


@pytest.fixture
def cpuinfo(tmp_path):
    def write(text):
        path = tmp_path / "cpuinfo"
        path.write_text(text)
        return path
    return write


def test_auto_is_bfloat16_with_amx_float32_without_and_float16_on_a_gpu(cpuinfo, monkeypatch):
    monkeypatch.delenv(precision.PRECISION_ENV, raising=False)
    assert precision.resolve("auto", cpuinfo=cpuinfo(AMX_XEON), gpu=False) == "mixed_bfloat16"
    assert precision.resolve("auto", cpuinfo=cpuinfo(EPYC), gpu=False) == "float32"
    assert precision.resolve("auto", cpuinfo=cpuinfo(EPYC), gpu=True) == "mixed_float16"
    assert precision.resolve("auto", cpuinfo=cpuinfo("no flags here"), gpu=False) == "float32"
    assert precision.resolve("float32", cpuinfo=cpuinfo(AMX_XEON), gpu=False) == "float32"
    # where bfloat16 was measured slower, auto keeps float32 (an explicit choice is obeyed)
    assert precision.resolve("auto", "colorful_classifier", cpuinfo=cpuinfo(AMX_XEON), gpu=False) == "float32"
    assert precision.resolve("auto", "unet", cpuinfo=cpuinfo(AMX_XEON), gpu=False) == "mixed_bfloat16"
    assert precision.resolve("mixed_bfloat16", "colorful_classifier", cpuinfo=cpuinfo(EPYC)) == "mixed_bfloat16"


def test_the_environment_overrides_auto_and_a_wrong_name_is_one_clear_error(cpuinfo, monkeypatch):
    monkeypatch.setenv(precision.PRECISION_ENV, "float32")
    assert precision.resolve("auto", cpuinfo=cpuinfo(AMX_XEON), gpu=False) == "float32"
    monkeypatch.setenv(precision.PRECISION_ENV, "bf16")
    with pytest.raises(ColorizeError, match="Unknown precision 'bf16'"):
        precision.resolve("auto", cpuinfo=cpuinfo(AMX_XEON), gpu=False)


def test_settings_for_resolves_auto_and_float32_runs_keep_their_old_names(dataset, monkeypatch):
    monkeypatch.setenv(precision.PRECISION_ENV, "mixed_bfloat16")
    profile = config.get_profile("smoke")
    assert training.settings_for(profile, "unet").precision == "mixed_bfloat16"
    assert training.settings_for(profile, "unet", precision="float32").precision == "float32"
    plain = TrainSettings(model="unet")
    assert plain.precision == "float32"
    assert plain.run_name(dataset, "smoke") != TrainSettings(model="unet", precision="mixed_bfloat16").run_name(
        dataset, "smoke")
    # the name of a float32 run does not mention precision, so runs trained before the knob are found
    identity = {k: v for k, v in plain.to_dict().items() if k != "precision"}
    assert "precision" not in str(identity)


def test_the_policy_is_restored_after_building():
    before = keras.mixed_precision.dtype_policy().name
    with precision.policy("mixed_bfloat16"):
        model = models.build("unet", base_filters=4, depth=2)
    assert keras.mixed_precision.dtype_policy().name == before
    conv = next(layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D))
    assert conv.dtype_policy.name == "mixed_bfloat16" and conv.compute_dtype == "bfloat16"
    # the output layer computes in float32, so losses and predictions keep full precision
    assert model.get_layer("ab").compute_dtype == "float32"
    assert model(np.zeros((1, 16, 16, 1), np.float32)).dtype == "float32"


@pytest.mark.parametrize("name, params", [("unet", {"base_filters": 4, "depth": 2}),
                                          ("pix2pix", {"base_filters": 4, "depth": 2, "disc_filters": 4}),
                                          ("colorful_classifier", {"base_filters": 4, "depth": 2})])
def test_as_float32_predicts_what_the_mixed_model_computes_at_full_precision(name, params):
    with precision.policy("mixed_bfloat16"):
        mixed = models.predictor(models.build(name, **params))
    with precision.policy("float32"):
        reference = models.predictor(models.build(name, **params))
    reference.set_weights(mixed.get_weights())
    twin = precision.as_float32(mixed)
    assert all(layer.dtype_policy.name == "float32" for layer in twin.layers)
    lightness = np.random.default_rng(0).uniform(-1, 1, (1, 16, 16, 1)).astype(np.float32)
    np.testing.assert_array_equal(np.asarray(twin(lightness)), np.asarray(reference(lightness)))
    # and bfloat16 arithmetic is measurably different, so the twin is not the mixed model itself
    assert not np.array_equal(np.asarray(mixed(lightness)), np.asarray(reference(lightness)))
    assert precision.as_float32(reference) is reference


@pytest.mark.parametrize("model, params, knobs", [
    ("unet", {"base_filters": 4, "depth": 2}, {}),
    ("pix2pix", {"base_filters": 4, "depth": 2, "disc_filters": 4}, {"learning_rate": 2e-4}),
])
def test_a_bfloat16_run_records_its_precision_and_predicts_in_float32(dataset, model, params, knobs):
    settings = TrainSettings(model=model, model_params=params, crop_size=32, work_side=64, batch_size=2, epochs=2,
                             steps_per_epoch=2, precision="mixed_bfloat16", **knobs)
    run = training.train(dataset, settings, verbose=0)
    assert run.record["precision"] == "mixed_bfloat16" and run.precision == "mixed_bfloat16"
    assert np.isfinite(run.history["loss"]).all()
    network = run.load_model()
    assert all(layer.dtype_policy.name == "float32" for layer in network.layers)
    ab = run.colorizer()(np.full((24, 30), 55.0, np.float32))
    assert ab.shape == (24, 30, 2) and ab.dtype == np.float32 and np.isfinite(ab).all()
    if model == "pix2pix":
        assert all(layer.dtype_policy.name == "float32" for layer in run.load_discriminator().layers)
