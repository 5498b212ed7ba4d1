"""Tests for nnlib.datasets: logic gates, 2-D toy sets, curves, digits (two and three ways)
and one_hot."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from nnlib import datasets

TWO_CLASS_MAKERS = [datasets.make_moons, datasets.make_circles, datasets.make_spirals]
CURVE_KINDS = ["sine", "step", "abs", "bumps"]

# Arrays of class labels 0..9, for the one_hot round trip.
label_arrays = hnp.arrays(np.int64, st.integers(1, 30), elements=st.integers(0, 9))


@pytest.fixture(scope="module")
def digits():
    """The default digits split, loaded once for the whole module."""
    return datasets.load_digits()


# ---------------------------------------------------------------- logic_gate


@pytest.mark.parametrize(
    ("name", "targets"),
    [
        ("and", [0.0, 0.0, 0.0, 1.0]),
        ("or", [0.0, 1.0, 1.0, 1.0]),
        ("xor", [0.0, 1.0, 1.0, 0.0]),
    ],
)
def test_logic_gate_truth_tables(name, targets):
    """Does each gate list the inputs 00, 01, 10, 11 in order with the right outputs?"""
    X, y = datasets.logic_gate(name)
    np.testing.assert_array_equal(X, [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    np.testing.assert_array_equal(y, targets)
    assert X.dtype == np.float64
    assert y.dtype == np.float64


def test_logic_gate_is_case_insensitive():
    """Does 'XOR' give the same table as 'xor'?"""
    X_upper, y_upper = datasets.logic_gate("XOR")
    X_lower, y_lower = datasets.logic_gate("xor")
    np.testing.assert_array_equal(X_upper, X_lower)
    np.testing.assert_array_equal(y_upper, y_lower)


def test_logic_gate_returns_fresh_arrays():
    """Does changing a returned table leave the next call unaffected?"""
    X, y = datasets.logic_gate("and")
    X[0, 0] = 99.0
    y[0] = 99.0
    X_again, y_again = datasets.logic_gate("and")
    assert X_again[0, 0] == 0.0
    assert y_again[0] == 0.0


@pytest.mark.parametrize("name", ["nand", "", 3])
def test_logic_gate_unknown_name_lists_known(name):
    """Does an unknown gate raise an error that lists the known gates?"""
    with pytest.raises(ValueError, match="unknown logic gate .*'and', 'or', 'xor'"):
        datasets.logic_gate(name)


# ---------------------------------------------------------------- moons, circles, spirals


@pytest.mark.parametrize("make", TWO_CLASS_MAKERS)
def test_two_class_shapes_and_dtypes(make):
    """Do the 2-D datasets return X (N, 2) and y (N,) in float64?"""
    X, y = make(n_samples=37)
    assert X.shape == (37, 2)
    assert y.shape == (37,)
    assert X.dtype == np.float64
    assert y.dtype == np.float64
    assert np.all(np.isfinite(X))


@pytest.mark.parametrize("make", TWO_CLASS_MAKERS)
@pytest.mark.parametrize(("n_samples", "n_class_0", "n_class_1"), [(200, 100, 100), (7, 4, 3)])
def test_two_class_balance(make, n_samples, n_class_0, n_class_1):
    """Are the classes balanced, with the odd sample going to class 0?"""
    _, y = make(n_samples=n_samples)
    assert set(np.unique(y)) == {0.0, 1.0}
    assert np.count_nonzero(y == 0.0) == n_class_0
    assert np.count_nonzero(y == 1.0) == n_class_1


@pytest.mark.parametrize("make", TWO_CLASS_MAKERS)
def test_two_class_same_seed_same_data(make):
    """Does the same seed give exactly the same data?"""
    X_first, y_first = make(n_samples=50, seed=3)
    X_second, y_second = make(n_samples=50, seed=3)
    np.testing.assert_array_equal(X_first, X_second)
    np.testing.assert_array_equal(y_first, y_second)


@pytest.mark.parametrize("make", TWO_CLASS_MAKERS)
def test_two_class_different_seed_different_data(make):
    """Do two different seeds give different points?"""
    X_first, _ = make(n_samples=50, seed=0)
    X_second, _ = make(n_samples=50, seed=1)
    assert not np.array_equal(X_first, X_second)


def test_circles_without_noise_lie_on_two_radii():
    """With no noise, is class 0 on the unit circle and class 1 on radius `factor`?"""
    X, y = datasets.make_circles(n_samples=40, noise=0.0, factor=0.3)
    radius = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(radius[y == 0.0], 1.0, rtol=1e-12)
    np.testing.assert_allclose(radius[y == 1.0], 0.3, rtol=1e-12)


def test_spirals_without_noise_arms_are_half_a_turn_apart():
    """With no noise, is every point of arm 1 the mirror (through 0) of a point of arm 0?"""
    X, y = datasets.make_spirals(n_samples=60, noise=0.0)
    arm_0 = X[y == 0.0]
    arm_1 = X[y == 1.0]
    # Both arms have 30 points at the same 30 radii; rotating by half a turn
    # maps (x1, x2) to (-x1, -x2), so matching points by radius pairs them up.
    order_0 = np.argsort(np.hypot(arm_0[:, 0], arm_0[:, 1]))
    order_1 = np.argsort(np.hypot(arm_1[:, 0], arm_1[:, 1]))
    np.testing.assert_allclose(arm_0[order_0], -arm_1[order_1], rtol=0, atol=1e-12)


def test_spirals_without_noise_stay_inside_unit_disc():
    """With no noise, do the arms run from radius 0.1 out to radius 1?"""
    X, _ = datasets.make_spirals(n_samples=60, noise=0.0)
    radius = np.hypot(X[:, 0], X[:, 1])
    assert radius.min() == pytest.approx(0.1, rel=1e-12)
    assert radius.max() == pytest.approx(1.0, rel=1e-12)


def test_spirals_turns_sets_where_the_arms_end():
    """With a quarter turn and no noise, do the arms end at (0, 1) and (0, -1)?"""
    X, y = datasets.make_spirals(n_samples=10, noise=0.0, turns=0.25)
    # The outer end has t = 1: angle = 2*pi * 0.25 * 1 = pi/2 -> (cos, sin) = (0, 1) for
    # arm 0, and pi/2 + pi = 3*pi/2 -> (0, -1) for arm 1.
    radius = np.hypot(X[:, 0], X[:, 1])
    end_0 = X[(y == 0.0) & np.isclose(radius, 1.0)]
    end_1 = X[(y == 1.0) & np.isclose(radius, 1.0)]
    np.testing.assert_allclose(end_0, [[0.0, 1.0]], rtol=0, atol=1e-12)
    np.testing.assert_allclose(end_1, [[0.0, -1.0]], rtol=0, atol=1e-12)


@pytest.mark.parametrize("make", TWO_CLASS_MAKERS)
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_samples": 0}, "n_samples must be a positive integer, got 0"),
        ({"n_samples": 10.0}, "n_samples must be a positive integer, got 10.0"),
        ({"noise": -0.1}, r"noise must be a finite number >= 0, got -0\.1"),
        ({"noise": float("nan")}, "noise must be a finite number >= 0"),
        ({"seed": -1}, "seed must be an integer from 0 to 2\\*\\*32 - 1, got -1"),
        ({"seed": None}, "seed must be an integer"),
    ],
)
def test_two_class_rejects_bad_arguments(make, kwargs, message):
    """Is each bad argument rejected with a message naming it?"""
    with pytest.raises(ValueError, match=message):
        make(**kwargs)


@pytest.mark.parametrize("factor", [1.0, -0.5, 2])
def test_circles_rejects_bad_factor(factor):
    """Is an inner radius outside [0, 1) rejected?"""
    with pytest.raises(ValueError, match=r"factor must be a number in \[0, 1\)"):
        datasets.make_circles(factor=factor)


@pytest.mark.parametrize("turns", [0, -1.5, float("inf")])
def test_spirals_rejects_bad_turns(turns):
    """Is a number of turns that is not finite and positive rejected?"""
    with pytest.raises(ValueError, match="turns must be a finite number > 0"):
        datasets.make_spirals(turns=turns)


# ---------------------------------------------------------------- make_curve


@pytest.mark.parametrize("kind", CURVE_KINDS)
def test_curve_shapes_and_grid(kind):
    """Is X an increasing (N, 1) grid from -pi to pi, with Y of shape (N, 1)?"""
    X, Y = datasets.make_curve(n_samples=25, kind=kind)
    assert X.shape == (25, 1)
    assert Y.shape == (25, 1)
    assert X.dtype == np.float64
    assert Y.dtype == np.float64
    assert X[0, 0] == -np.pi
    assert X[-1, 0] == np.pi
    assert np.all(np.diff(X[:, 0]) > 0)


@pytest.mark.parametrize(
    ("kind", "function"),
    [
        ("sine", np.sin),
        ("step", lambda x: (x > 0).astype(np.float64)),
        ("abs", lambda x: np.abs(x) / np.pi),
        ("bumps", lambda x: np.sin(3 * x) * np.exp(-(x**2) / 4)),
    ],
)
def test_curve_without_noise_is_exact(kind, function):
    """With noise=0, is Y exactly the documented function of X?"""
    X, Y = datasets.make_curve(n_samples=41, kind=kind, noise=0.0)
    np.testing.assert_array_equal(Y, function(X))


def test_curve_hand_values():
    """Do the curves take the hand-computed values at -pi, 0 and pi?"""
    # With 3 points the grid is exactly -pi, 0, pi.
    _, Y_step = datasets.make_curve(n_samples=3, kind="step")
    _, Y_abs = datasets.make_curve(n_samples=3, kind="abs")
    np.testing.assert_array_equal(Y_step.ravel(), [0.0, 0.0, 1.0])  # 0 is not > 0
    np.testing.assert_array_equal(Y_abs.ravel(), [1.0, 0.0, 1.0])  # |-pi|/pi, 0/pi, pi/pi


def test_curve_noise_is_seeded():
    """Does noise change Y, the same way for the same seed and differently for another?"""
    X, Y_clean = datasets.make_curve(n_samples=50, noise=0.0)
    _, Y_first = datasets.make_curve(n_samples=50, noise=0.2, seed=5)
    X_again, Y_second = datasets.make_curve(n_samples=50, noise=0.2, seed=5)
    _, Y_other = datasets.make_curve(n_samples=50, noise=0.2, seed=6)
    np.testing.assert_array_equal(X, X_again)
    np.testing.assert_array_equal(Y_first, Y_second)
    assert not np.array_equal(Y_first, Y_clean)
    assert not np.array_equal(Y_first, Y_other)


def test_curve_unknown_kind_lists_known():
    """Does an unknown kind raise an error listing every known kind?"""
    with pytest.raises(
        ValueError, match="unknown curve kind 'cos'.*'abs', 'bumps', 'sine', 'step'"
    ):
        datasets.make_curve(kind="cos")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_samples": -5}, "n_samples must be a positive integer"),
        ({"noise": -1.0}, "noise must be a finite number >= 0"),
    ],
)
def test_curve_rejects_bad_arguments(kwargs, message):
    """Are a bad sample count and a negative noise rejected by name?"""
    with pytest.raises(ValueError, match=message):
        datasets.make_curve(**kwargs)


# ---------------------------------------------------------------- load_digits


def test_digits_shapes_and_dtypes(digits):
    """Are the four parts shaped (N, 64) / (N,) with float64 pixels and int64 labels?"""
    X_train, X_test, y_train, y_test = digits
    assert X_train.shape == (1347, 64)
    assert X_test.shape == (450, 64)
    assert y_train.shape == (1347,)
    assert y_test.shape == (450,)
    assert X_train.dtype == np.float64
    assert X_test.dtype == np.float64
    assert y_train.dtype == np.int64
    assert y_test.dtype == np.int64


def test_digits_pixels_scaled_to_unit_interval(digits):
    """Are the pixels scaled from 0..16 to [0, 1], using both ends of the range?"""
    X_train, X_test, _, _ = digits
    pixels = np.concatenate([X_train.ravel(), X_test.ravel()])
    assert pixels.min() == 0.0
    assert pixels.max() == 1.0
    # Every raw value is a whole number 0..16, so 16 * pixel must be whole.
    np.testing.assert_array_equal(16 * pixels, np.round(16 * pixels))


def test_digits_labels_are_0_to_9(digits):
    """Do both parts contain every digit 0..9 and nothing else?"""
    _, _, y_train, y_test = digits
    np.testing.assert_array_equal(np.unique(y_train), np.arange(10))
    np.testing.assert_array_equal(np.unique(y_test), np.arange(10))


def test_digits_test_fraction_and_stratification(digits):
    """Is the test part the requested fraction, with each digit in the same proportion?"""
    _, X_test, y_train, y_test = digits
    # 1797 images, 25% held out: ceil(0.25 * 1797) = ceil(449.25) = 450.
    assert X_test.shape[0] == 450
    train_share = np.bincount(y_train, minlength=10) / y_train.size
    test_share = np.bincount(y_test, minlength=10) / y_test.size
    # Stratified: each class share differs by at most one image out of 450.
    assert np.all(np.abs(train_share - test_share) <= 1 / 450)


def test_digits_custom_test_size():
    """Does test_size=0.5 hold out half of the 1797 images?"""
    _, X_test, _, y_test = datasets.load_digits(test_size=0.5)
    # ceil(0.5 * 1797) = ceil(898.5) = 899
    assert X_test.shape == (899, 64)
    assert y_test.shape == (899,)


def test_digits_split_is_seeded(digits):
    """Does the same seed give the same split, and another seed a different one?"""
    X_train, _, y_train, _ = digits
    X_again, _, y_again, _ = datasets.load_digits(seed=0)
    X_other, _, _, _ = datasets.load_digits(seed=1)
    np.testing.assert_array_equal(X_train, X_again)
    np.testing.assert_array_equal(y_train, y_again)
    assert not np.array_equal(X_train, X_other)


@pytest.mark.parametrize("test_size", [0, 0.0, 1.0, 1.5, -0.25, True, "0.25"])
def test_digits_rejects_bad_test_size(test_size):
    """Is a test_size outside the open interval (0, 1) rejected?"""
    with pytest.raises(ValueError, match="test_size must be a number strictly between 0 and 1"):
        datasets.load_digits(test_size=test_size)


# ---------------------------------------------------------------- load_digits_split


@pytest.fixture(scope="module")
def digits_split():
    """The default three-way digits split, loaded once for the whole module."""
    return datasets.load_digits_split()


def test_digits_split_sizes_shapes_and_dtypes(digits_split):
    """Are the three parts 1077 / 360 / 360 images, shaped and typed like load_digits's?"""
    # test: ceil(0.2 * 1797) = ceil(359.4) = 360, leaving 1437;
    # validation: 0.2 / (1 - 0.2) = 0.25 of those, ceil(0.25 * 1437) = ceil(359.25) = 360;
    # training: 1437 - 360 = 1077.
    X_train, X_val, X_test, y_train, y_val, y_test = digits_split
    assert [X.shape for X in (X_train, X_val, X_test)] == [(1077, 64), (360, 64), (360, 64)]
    assert [y.shape for y in (y_train, y_val, y_test)] == [(1077,), (360,), (360,)]
    assert {X.dtype for X in (X_train, X_val, X_test)} == {np.dtype(np.float64)}
    assert {y.dtype for y in (y_train, y_val, y_test)} == {np.dtype(np.int64)}
    assert digits_split.X_val is X_val and digits_split.y_test is y_test


def test_digits_split_parts_are_disjoint_and_cover_every_image(digits_split):
    """Is every one of the 1797 images in exactly one part, pixels kept in [0, 1]?"""
    X_train, X_val, X_test, y_train, y_val, y_test = digits_split
    everything = np.concatenate([X_train, X_val, X_test])
    labels = np.concatenate([y_train, y_val, y_test])
    all_train, all_test, all_y_train, all_y_test = datasets.load_digits(test_size=0.25)
    reference = np.concatenate([all_train, all_test])
    reference_labels = np.concatenate([all_y_train, all_y_test])
    # the same multiset of (image, label) rows: compare them sorted by their bytes
    assert _rows(everything, labels) == _rows(reference, reference_labels)
    assert everything.min() == 0.0 and everything.max() == 1.0


def _rows(X, y):
    """The rows of X, each with its label appended, as sorted bytes."""
    return sorted(row.tobytes() + bytes([label]) for row, label in zip(X, y))


def test_digits_split_is_stratified(digits_split):
    """Does each digit have the same share of each part, up to one image of the smaller part?"""
    _, _, _, y_train, y_val, y_test = digits_split
    shares = [np.bincount(y, minlength=10) / y.size for y in (y_train, y_val, y_test)]
    for share in shares[1:]:
        assert np.all(np.abs(share - shares[0]) <= 1 / 360)


def test_digits_three_way_split_is_seeded(digits_split):
    """Does the same seed give the same three parts, and another seed other ones?"""
    again = datasets.load_digits_split(seed=0)
    other = datasets.load_digits_split(seed=1)
    for part, part_again in zip(digits_split, again):
        np.testing.assert_array_equal(part, part_again)
    assert not np.array_equal(digits_split.X_val, other.X_val)


def test_the_digits_are_scikit_learns():
    """Are the images read from scikit-learn's file those its load_digits returns, scaled?"""
    from sklearn.datasets import load_digits

    images, labels = load_digits(return_X_y=True)
    X, y = datasets._digit_images()
    np.testing.assert_array_equal(X, images / 16.0)
    np.testing.assert_array_equal(y, labels)
    assert (X.dtype, y.dtype) == (np.float64, np.int64)


def test_the_kept_default_split_is_scikit_learns(digits_split):
    """Are the rows kept for the default split (``nnlib._digit_split``) exactly those
    scikit-learn's stratified train_test_split makes, so the default split is the one every
    other split is made by?"""
    from sklearn.model_selection import train_test_split

    from nnlib import _digit_split

    X, y = datasets._digit_images()
    computed = _digit_split.computed(y)
    for part in ("train", "val", "test"):
        assert np.array_equal(_digit_split.rows(part), computed[part]), (
            f"the kept rows of {part!r} are not scikit-learn's split (a new scikit-learn?); "
            "write nnlib._digit_split.text(labels) to solutions/nnlib/_digit_split.py and "
            "make release")
    X_rest, X_test, y_rest, y_test = train_test_split(X, y, test_size=0.2, stratify=y,
                                                      random_state=0)
    X_train, X_val, y_train, y_val = train_test_split(X_rest, y_rest, test_size=0.25,
                                                      stratify=y_rest, random_state=0)
    for kept, made in zip(digits_split, (X_train, X_val, X_test, y_train, y_val, y_test)):
        np.testing.assert_array_equal(kept, made)


def test_the_default_split_loads_without_scikit_learn():
    """Does a fresh Python load the default digits split without importing scikit-learn (most
    of a second in every kernel and grading run)?"""
    import subprocess
    import sys

    program = ("import sys; from nnlib import datasets; parts = datasets.load_digits_split(); "
               "print(len(parts.X_train), 'sklearn' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          timeout=120)
    assert done.stdout.split() == ["1077", "False"], done.stderr


def test_digits_split_custom_sizes():
    """Do validation_size=0.1 and test_size=0.3 give 180 validation and 540 test images?"""
    split = datasets.load_digits_split(validation_size=0.1, test_size=0.3)
    # test: ceil(0.3 * 1797) = ceil(539.1) = 540, leaving 1257;
    # validation: 0.1 / 0.7 of those, ceil(179.57...) = 180; training: 1257 - 180 = 1077.
    assert (split.X_train.shape[0], split.X_val.shape[0], split.X_test.shape[0]) == (
        1077, 180, 540)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"validation_size": 0.0}, "validation_size must be a number strictly between 0 and 1"),
        ({"validation_size": True}, "validation_size must be a number strictly between 0 and 1"),
        ({"test_size": 1.0}, "test_size must be a number strictly between 0 and 1, got 1.0"),
        ({"validation_size": 0.5, "test_size": 0.5},
         r"validation_size \+ test_size must be below 1 to leave images for training"),
        ({"seed": -1}, "seed must be an integer from 0"),
    ],
)
def test_digits_split_rejects_bad_arguments(kwargs, message):
    """Is each bad fraction or seed rejected with a message naming it?"""
    with pytest.raises(ValueError, match=message):
        datasets.load_digits_split(**kwargs)


# ---------------------------------------------------------------- one_hot


def test_one_hot_hand_example():
    """Does one_hot put a single 1 in the column of each label?"""
    expected = [
        [0.0, 0.0, 1.0],  # label 2
        [1.0, 0.0, 0.0],  # label 0
        [0.0, 1.0, 0.0],  # label 1
        [0.0, 0.0, 1.0],  # label 2
    ]
    out = datasets.one_hot([2, 0, 1, 2])
    np.testing.assert_array_equal(out, expected)
    assert out.dtype == np.float64


def test_one_hot_with_more_classes_than_seen():
    """Does n_classes add columns for classes absent from the labels?"""
    out = datasets.one_hot([1, 0], n_classes=4)
    np.testing.assert_array_equal(out, [[0.0, 1.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0]])


def test_one_hot_accepts_whole_floats():
    """Are float labels such as the 0.0/1.0 targets of make_moons accepted?"""
    _, y = datasets.make_moons(n_samples=6)
    out = datasets.one_hot(y)
    assert out.shape == (6, 2)
    np.testing.assert_array_equal(out.argmax(axis=1), y)


def test_one_hot_does_not_mutate_labels():
    """Are the labels left unchanged?"""
    labels = np.array([3, 1, 2])
    datasets.one_hot(labels)
    np.testing.assert_array_equal(labels, [3, 1, 2])


@given(label_arrays)
def test_one_hot_round_trips_with_argmax(labels):
    """Does argmax over each one-hot row give back the original label?"""
    out = datasets.one_hot(labels, n_classes=10)
    assert out.shape == (labels.size, 10)
    np.testing.assert_array_equal(out.sum(axis=1), np.ones(labels.size))
    np.testing.assert_array_equal(out.argmax(axis=1), labels)


@given(label_arrays)
def test_one_hot_default_width_is_max_plus_one(labels):
    """Without n_classes, is the number of columns the largest label plus one?"""
    assert datasets.one_hot(labels).shape == (labels.size, int(labels.max()) + 1)


@pytest.mark.parametrize(
    ("labels", "n_classes", "message"),
    [
        ([0, 1.5, 2], None, r"labels must be whole numbers, but labels\[1\] is 1\.5"),
        ([0, -1, 2], None, "labels must be >= 0, but the smallest is -1"),
        ([0, 3, 1], 3, "labels must be < n_classes = 3, but the largest is 3"),
        ([0, 1], 0, "n_classes must be a positive integer, got 0"),
        ([0, 1], 2.0, "n_classes must be a positive integer, got 2.0"),
        ([[0, 1]], None, "labels must be 1-D"),
        ([], None, "labels is empty, so n_classes cannot be inferred"),
    ],
)
def test_one_hot_rejects_bad_labels(labels, n_classes, message):
    """Is each kind of bad label reported with a message naming it?"""
    with pytest.raises(ValueError, match=message):
        datasets.one_hot(labels, n_classes=n_classes)
