"""The ranking network and its training: determinism, learning, cold items, evaluation, files."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from recsys.model import ModelConfig
from recsys.ranker import Ranker
from recsys.schemas import ScoreRequest
from recsys.seqdata import load_dataset
from recsys.train import TrainConfig, build, evaluate, fit, next_item_scores, set_seed

N_ITEMS = 30


def _cyclic_sequences(n_users: int = 120, seed: int = 0) -> list[list[int]]:
    """Each user walks 1→2→…→30→1 from a random start: the next item is fully predictable."""
    rng = np.random.default_rng(seed)
    seqs = []
    for _ in range(n_users):
        start, length = int(rng.integers(1, N_ITEMS + 1)), int(rng.integers(5, 12))
        seqs.append([(start + j - 1) % N_ITEMS + 1 for j in range(length)])
    return seqs


def _attrs() -> np.ndarray:
    # Attribute token = the item's position in the cycle, so a model can reason from attributes.
    attrs = np.zeros((N_ITEMS + 1, 1), dtype=np.int64)
    attrs[1:, 0] = np.arange(1, N_ITEMS + 1)
    return attrs


def _train(seed: int = 1, epochs: int = 8):
    seqs = _cyclic_sequences()
    set_seed(seed)
    model = build(ModelConfig(n_items=N_ITEMS, n_attrs=N_ITEMS, hidden=32, heads=2, max_len=10, dropout=0.1),
                  _attrs(), device=torch.device("cpu"))
    val = ([s[:-1] for s in seqs[:30]], [s[-1] for s in seqs[:30]])
    result = fit(model, [s[:-1] for s in seqs], TrainConfig(epochs=epochs, batch_size=32, lr=5e-3, seed=seed, threads=1),
                 val=val, progress=False)
    return model, result, val


@pytest.fixture(scope="module")
def trained():
    return _train()


def test_training_is_deterministic_and_learns_the_pattern(trained):
    model_a, result_a, val = trained
    model_b, result_b, _ = _train()
    untimed = [[{k: v for k, v in e.items() if k != "seconds"} for e in r.history] for r in (result_a, result_b)]
    assert untimed[0] == untimed[1]
    for (name, a), (_, b) in zip(model_a.state_dict().items(), model_b.state_dict().items()):
        assert torch.equal(a, b), name
    # Popularity is ~uniform here (HR@5 ≈ 5/30); a model that learned the cycle is far above it.
    assert result_a.val["HR@5"] > 0.6


def test_evaluate_masks_history_and_handles_empty_inputs(trained):
    model, _, val = trained
    metrics = evaluate(model, [[], [1, 2]], [5, 3])
    assert set(metrics) == {"HR@5", "HR@10", "HR@20", "NDCG@5", "NDCG@10", "NDCG@20"}
    assert all(0.0 <= v <= 1.0 for v in metrics.values())
    scores = model.score_all(torch.zeros((1, 3), dtype=torch.long))
    assert torch.isfinite(scores[0, 1:]).all()  # an empty history is a cold start, not NaN


def test_an_ensemble_averages_its_members_softmax(trained):
    model, _, val = trained
    set_seed(9)
    other = build(model.config, _attrs(), device=torch.device("cpu")).eval()  # untrained: a different member
    seqs = torch.tensor([[0, 1, 2], [3, 4, 5]])
    with torch.no_grad():
        mean = (model.score_all(seqs).softmax(-1) + other.score_all(seqs).softmax(-1)) / 2
        scores = next_item_scores([model, other], seqs)
        assert torch.allclose(scores.softmax(-1), mean, atol=1e-6)
        assert scores[:, 0].eq(float("-inf")).all()
        assert torch.equal(next_item_scores([model], seqs), model.score_all(seqs))
    # A member that knows next to nothing (near-uniform softmax) leaves the good one's ranking standing.
    assert evaluate([model, other], *val)["HR@5"] > 0.6


def test_new_item_without_history_gets_scores_from_its_attributes():
    # Item 30 never appears as a *target* if we drop it from training; its attribute still ties it in.
    seqs = [[i for i in s if i != N_ITEMS] for s in _cyclic_sequences()]
    set_seed(3)
    cold = build(ModelConfig(n_items=N_ITEMS, n_attrs=N_ITEMS, hidden=32, max_len=10, dropout=0.1, use_ids=False),
                 _attrs(), device=torch.device("cpu"))
    fit(cold, seqs, TrainConfig(epochs=2, batch_size=32, seed=3), progress=False)
    vec = cold.item_vectors(torch.tensor([N_ITEMS]))
    assert vec.abs().sum() > 0  # a content-only item vector exists for an unseen item


def test_ranker_round_trip_and_clear_errors(tmp_path, trained):
    model, _, _ = trained
    ranker = Ranker(model, [f"i{i}" for i in range(1, N_ITEMS + 1)])
    path = ranker.save(tmp_path / "ranker.pt")
    again = Ranker.load(path)
    req = ScoreRequest(history=["i1", "i2", "nope"], candidates=["i3", "i10"])
    a, b = ranker.score(req), again.score(req)
    assert a.item_ids == ["i3", "i10"] and a.unknown_history == ["nope"]
    assert a.scores == pytest.approx(b.scores, abs=1e-5)
    with pytest.raises(ValueError, match="unknown candidate"):
        ranker.score(ScoreRequest(history=["i1"], candidates=["zzz"]))
    batch = ranker.score_batch([req, ScoreRequest(history=[], candidates=None)])
    assert batch[0].scores == pytest.approx(a.scores, abs=1e-5) and len(batch[1].scores) == N_ITEMS


def test_sequence_file_split_and_bad_lines(tmp_path):
    good = tmp_path / "Tiny.txt"
    good.write_text("u1 1 2 3 4 5\nu2 2 3 4\n")
    ds = load_dataset(good)
    assert ds.n_items == 5 and ds.item_attrs is None
    assert ds.test() == ([[1, 2, 3, 4], [2, 3]], [5, 4])
    assert ds.validation() == ([[1, 2, 3], [2]], [4, 3])
    assert ds.train_sequences() == [[1, 2, 3]]
    bad = tmp_path / "Bad.txt"
    bad.write_text("u1 1 x 3\n")
    with pytest.raises(ValueError, match="Bad.txt:1"):
        load_dataset(bad)
    with pytest.raises(FileNotFoundError):
        load_dataset(tmp_path / "missing.txt")


def test_unpadded_and_left_padded_histories_get_the_same_user_vector():
    # An unpadded row takes the plain causal mask, a padded one the padding-aware mask: same answer.
    set_seed(0)
    model = build(ModelConfig(n_items=N_ITEMS, hidden=16, heads=2, max_len=10), device=torch.device("cpu")).eval()
    with torch.no_grad():
        plain = model.user_vectors(torch.tensor([[3, 4, 5]]))
        padded = model.user_vectors(torch.tensor([[0, 0, 3, 4, 5], [0, 1, 2, 3, 4]]))[:1]
    torch.testing.assert_close(plain, padded, atol=1e-5, rtol=1e-5)


def test_cosine_schedule_decays_the_learning_rate_and_bad_names_fail():
    seqs = _cyclic_sequences(40)
    set_seed(0)
    model = build(ModelConfig(n_items=N_ITEMS, hidden=16, heads=1, max_len=10), device=torch.device("cpu"))
    val = ([s[:-1] for s in seqs[:10]], [s[-1] for s in seqs[:10]])
    result = fit(model, seqs, TrainConfig(epochs=4, batch_size=32, lr=1e-2, threads=1, schedule="cosine", patience=1),
                 val=val, progress=False)
    assert result.epochs_run == 4  # the schedule, not patience, ends a cosine run
    lrs = [h["lr"] for h in result.history]
    assert lrs[0] == 1e-2 and lrs == sorted(lrs, reverse=True) and lrs[-1] < 1e-2 / 2
    with pytest.raises(ValueError, match="schedule"):
        fit(model, seqs, TrainConfig(epochs=1, schedule="linear"), progress=False)


def test_a_cpu_time_budget_ends_training_like_a_wall_time_one(monkeypatch):
    seqs = _cyclic_sequences(40)
    set_seed(0)
    model = build(ModelConfig(n_items=N_ITEMS, hidden=16, heads=1, max_len=10), device=torch.device("cpu"))
    ticks = iter(range(0, 10**6, 60))  # each reading of the process's CPU clock: one more minute of CPU
    monkeypatch.setattr("recsys.train.time.process_time", lambda: float(next(ticks)))
    result = fit(model, seqs, TrainConfig(epochs=50, batch_size=32, threads=1, max_minutes=3.5, clock="cpu"),
                 progress=False)
    assert 1 <= result.epochs_run < 50  # stopped by the CPU budget, whatever the wall clock said
    with pytest.raises(ValueError, match="clock"):
        fit(model, seqs, TrainConfig(epochs=1, clock="gpu"), progress=False)


def test_an_ensemble_ranker_with_a_prior_ranks_as_the_benchmark_and_round_trips(tmp_path, trained):
    from recsys.transitions import fit_priors, mix_priors

    model, _, val = trained
    set_seed(9)
    other = build(model.config, _attrs(), device=torch.device("cpu")).eval()
    prior = mix_priors(fit_priors(_cyclic_sequences(seed=1), N_ITEMS), 0.5)
    ids = [f"i{i}" for i in range(1, N_ITEMS + 1)]
    ranker = Ranker([model, other], ids, meta={"trained_at": "then"}, prior=prior, prior_weight=0.3)
    assert ranker.name == "Aisle's ranking model (2 networks + co-purchase prior, trained then)"
    history = val[0][0]
    got = ranker.score(ScoreRequest(history=[f"i{i}" for i in history])).scores
    with torch.no_grad():  # what recsys.train.evaluate ranks by: (1 - w) · mean softmax + w · prior
        seqs = torch.tensor([history[-model.config.max_len :]])
        want = 0.7 * next_item_scores([model, other], seqs).softmax(-1) + 0.3 * torch.as_tensor(prior.probabilities([history]))
    np.testing.assert_allclose(np.exp(got), want[0, 1:].numpy(), rtol=1e-4, atol=1e-7)
    again = Ranker.load(ranker.save(tmp_path / "ranker.pt"))
    assert len(again.models) == 2 and again.prior_weight == 0.3 and again.name == ranker.name
    req = ScoreRequest(history=["i1", "i2"], candidates=["i3", "i9"])
    assert again.score(req).scores == pytest.approx(ranker.score(req).scores, abs=1e-5)
    assert again.score(req).model == ranker.name


def test_the_frequency_filter_is_causal_ignores_padding_and_is_mixed_with_attention():
    set_seed(0)
    model = build(ModelConfig(n_items=N_ITEMS, hidden=16, max_len=10, freq_filter=2), device=torch.device("cpu")).eval()
    with torch.no_grad():
        padded, plain = model.user_vectors(torch.tensor([[0, 0, 3, 4, 5, 6]])), model.user_vectors(torch.tensor([[3, 4, 5, 6]]))
        assert torch.allclose(padded, plain, atol=1e-5)
        a, b = model.encode(torch.tensor([[1, 2, 3, 4, 5]])), model.encode(torch.tensor([[1, 2, 3, 4, 9]]))
        assert torch.allclose(a[:, :4], b[:, :4], atol=1e-6)  # a later item never reaches an earlier state
        assert not torch.allclose(a[:, 4], b[:, 4])
    # α = 0 leaves the attention sub-layer alone: the filter has no say, yet the block still runs its
    # feed-forward sub-layer on the mix (BSARec's block), so it matches the plain blocks' output.
    plain_cfg = ModelConfig(n_items=N_ITEMS, hidden=16, max_len=10)
    set_seed(0)
    plain_model = build(plain_cfg, device=torch.device("cpu")).eval()
    mixed = build(dataclasses.replace(plain_cfg, freq_filter=2, freq_alpha=0.0), device=torch.device("cpu")).eval()
    mixed.load_state_dict(plain_model.state_dict(), strict=False)
    seq = torch.tensor([[0, 1, 2, 3, 4, 5]])
    with torch.no_grad():
        assert torch.allclose(mixed.user_vectors(seq), plain_model.user_vectors(seq), atol=1e-5)
    fit(model, _cyclic_sequences(40), TrainConfig(epochs=1, batch_size=16, seed=1, threads=1), progress=False)


def test_duorec_views_are_other_prefixes_followed_by_the_same_item():
    from recsys.train import SameTarget, _same_target_views

    rows = [[1, 2, 3], [4, 2, 3], [5, 3], [6, 7]]
    index = SameTarget.index(rows, 7)
    rng = np.random.default_rng(0)
    for _ in range(20):
        views = _same_target_views(rows, [0, 1, 2, 3], index, rng)
        for row, view in zip(rows, views):
            followed = {tuple(r[:e]) for r in rows for e in range(1, len(r)) if r[e] == row[-1]}
            assert tuple(view) in followed
        assert views[0] != rows[0][:-1] and views[2] != rows[2][:-1]  # never itself while another exists
        assert views[3] == [6]  # nothing else is followed by item 7: its own prefix


def test_the_duorec_term_is_finite_and_added_only_when_switched_on(monkeypatch):
    import recsys.train as train

    seqs = _cyclic_sequences(60)
    val = ([s[:-1] for s in seqs[:10]], [s[-1] for s in seqs[:10]])
    terms = []
    real = train._contrastive_loss

    def spy(*args, **kwargs):  # the real term, recorded
        out = real(*args, **kwargs)
        terms.append(out.item())
        return out

    monkeypatch.setattr(train, "_contrastive_loss", spy)

    def run(**cl):
        set_seed(0)
        model = build(ModelConfig(n_items=N_ITEMS, hidden=16, heads=1, max_len=10), device=torch.device("cpu"))
        return fit(model, seqs, TrainConfig(epochs=1, batch_size=16, threads=1, loss="sampled", negatives=8, **cl),
                   val=val, progress=False)

    off = run()
    assert terms == [] and off.epochs_run == 1
    assert run(cl_weight=0.0, cl_kind="sup").history[0]["loss"] == off.history[0]["loss"]  # weight 0: untouched
    for kind in ("unsup", "sup", "both"):
        terms.clear()
        on = run(cl_weight=0.5, cl_temp=0.7, cl_kind=kind)
        assert on.epochs_run == 1 and np.isfinite(on.history[0]["loss"]) and np.isfinite(on.val["NDCG@10"])
        assert terms and all(np.isfinite(t) and t > 0 for t in terms)
        assert on.history[0]["loss"] != off.history[0]["loss"]
    with pytest.raises(ValueError, match="cl_kind"):
        run(cl_weight=0.1, cl_kind="cl4srec")


def test_last_position_targets_train_on_every_prefix_and_allow_a_whole_history_filter():
    from recsys.train import _prefixes

    assert _prefixes([1, 2, 3, 4], 2) == [[1, 2], [1, 2, 3], [2, 3, 4]]
    config = ModelConfig(n_items=N_ITEMS, hidden=16, max_len=10, freq_filter=2, freq_causal=False)
    set_seed(0)
    model = build(config, device=torch.device("cpu")).eval()
    with torch.no_grad():
        for filt in model.filters:  # β = 1 (the start) passes the history through unfiltered
            filt.sqrt_beta.fill_(0.5)
        padded, plain = model.user_vectors(torch.tensor([[0, 0, 3, 4, 5, 6]])), model.user_vectors(torch.tensor([[3, 4, 5, 6]]))
        assert torch.allclose(padded, plain, atol=1e-5)
        a, b = model.encode(torch.tensor([[1, 2, 3, 4, 5]])), model.encode(torch.tensor([[1, 2, 3, 4, 9]]))
        assert not torch.allclose(a[:, :4], b[:, :4], atol=1e-6)  # BSARec's filter: the whole history everywhere
    seqs = _cyclic_sequences(40)
    with pytest.raises(ValueError, match="targets='last'"):
        fit(model, seqs, TrainConfig(epochs=1, batch_size=16, seed=1, threads=1), progress=False)
    result = fit(model, seqs, TrainConfig(epochs=2, batch_size=16, seed=1, threads=1, targets="last"),
                 val=([s[:-1] for s in seqs[:10]], [s[-1] for s in seqs[:10]]), progress=False)
    assert result.epochs_run == 2 and 0.0 <= result.val["NDCG@10"] <= 1.0


def test_an_items_vector_adds_the_mean_of_its_attribute_vectors_padding_left_out():
    attrs = np.array([[0, 0, 0], [1, 0, 0], [2, 3, 0], [1, 2, 3]], dtype=np.int64)  # items with 1, 2 and 3 attributes
    model = build(ModelConfig(n_items=3, n_attrs=3, hidden=8, heads=2, max_len=4), attrs, device=torch.device("cpu"))
    a, ids = model.attr_emb.weight.detach(), model.item_emb.weight.detach()
    expected = torch.stack([ids[0], ids[1] + a[1], ids[2] + (a[2] + a[3]) / 2, ids[3] + (a[1] + a[2] + a[3]) / 3])
    with torch.no_grad():
        assert torch.allclose(model.item_vectors(), expected, atol=1e-6)
        seqs = torch.tensor([[0, 1, 3], [2, 2, 1]])  # any batch shape: one vector per index
        assert torch.allclose(model.item_vectors(seqs), expected[seqs], atol=1e-6)
