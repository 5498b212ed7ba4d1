"""The digits' default split, kept here so that loading them needs no scikit-learn.

Provided code, not an exercise. ``datasets.load_digits_split()`` with its defaults
(validation 0.2, test 0.2, seed 0), which every notebook uses, returns the images of the rows
listed here, in this order: exactly what scikit-learn's stratified ``train_test_split`` makes
of them (``tests/test_datasets.py`` checks). Importing scikit-learn takes most of a second, in
every fresh kernel and every grading run; other arguments still go through it.

The rows are little-endian uint16, base64-encoded. ``text()`` is this file written again from
scikit-learn, should a new version of it split differently.
"""

import base64

import numpy as np

DEFAULTS = {"validation_size": 0.2, "test_size": 0.2, "seed": 0}
ROWS = {
    "train": (
        "PAP4AJwDZgWhAukCGQNIAj8DYwM8AhwFoQVsBnIFqwbzBioEZAadBeECLAHvBgYBTwWyAfoCmgYRBDsApgI4"
        "AEkB0wMbBXADjgbeBMcE3gXSBI8FkwRQBBEAHAGtA6wGiwJGAiEG2wRWBLwGeAb+A8sDrgPGAqwEYwEPBWoG"
        "WQSjBsUDaQQoBfUBPQPYBhMEEwC5ADkFygRBA7gGIADHAscA8gRpAuUAGwAeBJsEaAXLBEUA3wMtBMgCGwLy"
        "AC8GAQNgA/UDuQMXAkUD5QEhBEUBzAbkA3kE/gXpA9ADmwEtA2YDCAX6BBkGFgB2ArMF/AYfA00DwgQeAqYE"
        "ygHQAKoCYgHgBSgBYQLsAYIC+gNDAZYALQYrAtUC8gFtAbgCQAKLBbYBAgQcBK8CxwXiBTAE2gLHBoQFbQVw"
        "AEICbQNfBOcBewAoBIcBZwEGA08AMwbvAZ0EWwYhA9YEJwP2ALsETgMkBi4DGAW7Av4BXwLwA0EGOQF0BI0F"
        "DgDTBRIF9QWoAa8AaAbsBTkDLgKuAo4DyAEjA+EEeQGeBbAGNwHgBqYDqQThALMEbwAnAokAMgPoA5ICJAM1"
        "Bp8G9gYQBu8CMAboBF8BlwN7BrAFjAZdArsB1AJKALMBpwTJA60FCwYjAkcBRARYBiAGRQaTBYsGTwZDBtkB"
        "EwJSALkBNACYAWIFbADTAYACcwOUBksDfQNlApAC7gAsBPMFYQZMACYFPwIVBHgEcgD7A/cGHAJ8AJQCIgZe"
        "ASsGKQFYADUBkwDOAEsByQHbA9cF7wWGBS8DawMAAmAGfgFqAlAFigNDBMsFewFMBJsDQwO0AvUC+wK3BAwA"
        "ZANYAr4BYAGoAH8BRwOgAW4BpwKpBsMBbQDABFkDowWJBZADzQJ+BtUB5gFfA1MFzwbuAXoGBQIkATYBuwBk"
        "ABoB+AFrANoByAbYA7YApwBgBV4CnACKAXgCkgXuBeQE3QL3AHUCBAQKBmoAdwLjBs4EYwUfBSYCiAIOAUcE"
        "VQEBBwgAxACCA6sEigBkAmYCuQRZBi8FcQGtBg4GKgPOAogAfwYpBTQEZwakBiYGKwXEBqUDCwO1A9IGJQJ3"
        "BeQAzwQrAJwCCQYVAZEF6AB5BYQBJwF+A5wGHAaZArgF/wW4AKoDLAW6BnoFPwa6AgsCFAU8AckGZgZaAoEF"
        "BAJVBEQBnwNPA/oBlAPaABAEhQD8BCkDPgUqBQgG+gYxAmsBhwPxAoQC0QL5BpQB2AJVAwgEvQbYBEcG0AEM"
        "AXkAAAV9AbQBSQb4BGoD3AFXBBIAjQYrAaQFUQGzBo8CnwFlAZgDngRQAq4GTAVZADUFGQDDBsEBcAUTBnAB"
        "0ALUARcA7wDsAEQDvAPmBrkGvQPwAgMGSQI3BKIA0wKrAQkEyAUYA7UAAwAYAhUCfQClAUADYgPrBWgA5wMC"
        "BaAC5AZuBLkFbwROBRIG1wEJAKgD7QbDADICMwMGAL0EDALcAqUE6wT7BOoANQA8AJAAdALXA3YGsgPLAIIF"
        "cAKXApgF8wRTAiwGlQOrAAQFLQKRBuwDVAFzBEMABAEbBJEATQEkAAkF6AZoAvICdABmAdIDPQYyAAYCTQI7"
        "AcQCbgYpBEEA1gVGAGwCPgLVAx8EVgIBAH4CJwR8ArQFvgC4BCgCSwUpBm8CBwO3BUkAAQU8BL4DkQNbBL0F"
        "kQLIA8oDCwV6AJMDsAARAjAFOgbfBAoCAgAJA1kBGgAtAXEFWwPfADoEUAGpBc0BDQbLAX0GDwRSAl0BFACD"
        "BYEGTQVyAT8BQQHpBOIB2QbsBJ8E/APNBpYC6wGAAK0EBQGZAc8DjQJfBjQCSQP+BPQAZAXnBUcAPQBfAJ4A"
        "wQBpAZkDNQMdAlIFMAKxBjAD7QXjAtQGagFaBeIEeAByAtAGAgEHBg8BwwN1BaoEpQU4BHoB2gW+BPQC5AIN"
        "AwkCqwNxAjsGpQLAASoC4gMhARUFfgBFAkQFzgFvA8sG5gJEArUFowG2BhQCmQWmBV4FaQOpAFMALwJ3AakC"
        "MQDSAhQGtwLaAzcGdgNrBZkE5gQCAq4FXQTmA1QGHAPUA+MEPgYMBv0CEgGLAAEBgQNRA1QAqwU9BTIEbwGy"
        "BvcEUQXgBIYCLwFXAXoE3AXbAPcBwwQlBRkBZQCTAkQGvARKBTYEEAPCADkG8QX7AToDSgMDA9EFdQG/AQoE"
        "7wSOAGQBHgACBjIGaAPSBWkG4QMHAOcEIQAeA7IEvQEAANcEJAUWA2MCsgXXBuYFVAKAAYYD6wKKBZEBPQFQ"
        "A8sCnQPpBmcFugOLAb8A2QLSAfcCjABKAesAyQIvAOoF0gBXBo0EJgDVBpcG1QQrBLQA0QAzAkABBwHWATsC"
        "aQXxBDcDjwYABp0AWQIaBIEEIQXgAOoETAJxA2AEGgWsA8AAUAYgAbQDiASLA+UGygLpAJUGZwM2BTUEtgV7"
        "BFgD8wOMAZIAgQCFA1kFpAAHBFYFXgN1BqIDwQYNAXoCwgYxAx0FAwIRBo0AjgH0BuIGkwbQBVYAowCeBtsC"
        "yQCIAf8ErwRGAyUEswP4BigA1wB5BmsEkAFVAlAAGAF7AsYDXQCoAoMBNwD5ArwB6gKGBqICCgVuBT8AeAX8"
        "AbIACwChBCMEVwW3AMUFLgRdA3MAlgZPAkAF0QHTBBABVgHMAREBmALPAFwBXAD5A5UAnwXtAKIBbQK4AwUF"
        "swLxBh4FkgReBqAERQWWBXAGpQZrBi4BiAYKAzoAswAFBCoGZQWcBR8CQgGcARAAfwMWBAgDIgSdAj8FsQQd"
        "AZcAwgIYBMYFTgLuAuIA5wAiAVUFWwBnAjoFvwLhBtsBjwDdAJoDcwKnA4IE8QBABh8B/QTTBi0FBACnBYMC"
        "4AK1Aq4EVwIDBGcE"
    ),
    "val": (
        "JAKmAZ8CogStATEFfQSHAh8AdgTKBhMFgwbmAAcC3QF5AnMGGQUBAkcCHQNxANsFCgBPBL0A/wFqBB0AJgEM"
        "AxYCtQGMBN8F3AaZBqYGlAQuANQEGgaPAz4BrAFsBPkEigLYAHIDgwTkAQIH6QG/BPIFOwUbBgQHhwDOA7EC"
        "hQaiBtwDiAWSAUkE6AEpAAAB4wGBATgDcQTZAEEFiwShBk4ErgA2Bv0DIwENAgMHbAVDAkIAFwOVAuoBIAJL"
        "ANQFrAIxBnQFMADeAWgE5wKkA/MCVQaFBbYDDgPMBL8GwwI4BdYDWAR0BlIDhgEjBTQGvAVqBZ4BhgTjA2MG"
        "wgG7BiICoQA2AmYENgCABeAB1gKlAKsC3ASSBn8ADQXsAkEETAYJAcEDyQVFBCQEUwZEAO4GoABSBM0FtwH9"
        "AGIAGwNvBhIEDgU6AlIG3wGwAhkClgFIAHIETgGZACMG+QC6BLICqgEXBIQEFgH+BhUGbgKOBPYBxwP7BQwE"
        "hwZlA/gF5AXXAvcDEgIBBgYF3wabALEArABBAnsD3QWvAaQEkgP2BVYGsQVMAYgDfAPUAFUAXQXZBKMDAwHc"
        "AMwDggCaBQoBtgT6AIUBOwP2AhEDEQX0BS8EsAEhAp0GtQRLBhcFmgCFAloEAQR2AHkDWwJtBK0CIgUXBj4D"
        "rAV/BcAFHQaXBcUB3gA+APwCDgIlBpcEQwUDBY4FSAN3A8MFdAM7BPkBngJaAMgAzgUPAGIE2gaYBLsDRgQs"
        "ACcGxAP9BUoCbwXBBccBLgUABFIBjgJCA2EAcQawBNgBzQRCBY8BBQCvBo0DWwF3BN8C/QFaA3MBgAOUBZgA"
        "zwFMA1EEPQRuA/8AZQQUBAAH3QagA7cGewVhAWQExgSkAkAABQMzBPsAqAVoAUsEwgPdBF4ADQDJBCYEpgBh"
        "BTcFvwP3BcUGUwOMBdUAWAXjBZoEdgU/BLkC"
    ),
    "test": (
        "2AW8AMECNAOdAegCugX0Af4A1ga1Bu0E2QXFBCcFiQO6Ad4G8AbFAGEDAAOiBR4GggGEAK8DHQQMBSwCxAFh"
        "BLYCvgJ3BhAC9gQ0AYcFzADsBncAFAEEBlwFWgY+BP4CJwAPAzwGZwACA+kFLANGBnwG0QOJBo8E8QFUA6cB"
        "CwF+Bd4CiQFeBPIGowK9Al8F8wFgADkCNAWxAyUBYgLPAvMAygW+BlcAtAavBXMF7QLyAwUG4wBsA+4DXQaM"
        "A3wB/AWQBTkAIgBNBHQBFQAjAC4GhAaNAVoBgAS7BUoGDgRmABgGGQR1AD0CxgBXA1QFxAVcA38C7QGKBFwC"
        "fAVlBsgEfgQ4AkgB7gTBBOgFUwSCBuUE6wbwBRoC+wbnBsIFXASgBc8FrgHtA3UEhQRGBcwFzgYPAvgDdQPR"
        "BDcCHgGpAyoABANJBRUDEwMXAfUA+AJ4AbwClgNwBDMFlQF9AjoBxgbAAvAE9AMTAdoEzAJ6A0cFsAOfABAF"
        "fQXwAboA2wZ8BDgBQgQ2A2ACygBpANkDgwOaAsAD9QTlBUsCKAOqBQ8GjAIlA7cDYwAgA+UChwSnBkoE+QVI"
        "Ba0ATgDvA0AE/ADNAGMEKgExAUYB6wOVBHYBMwEbAcAGMQS4AdAEJQCkAVwG4QFiBoEChgChAf8CigZuABYG"
        "DQSbAuoD/QaVBagGlAAIAiAEJgNTASAFkAZtBlECBgaRBDkEgAZrAh8G5QN4A3IGSATgAxQDfwSJBE8B3QNR"
        "AEgG1gD6BfAAHACQBIQDTQAiA5oBTQY1AqgEsQFbBVYDCAEtAJgGoAapATIBCwTiAjwFBwXeA80DxQKqBvUG"
        "tASTAcYBKAahA+EFKwPEBJ4D9AQGBE4GowRCBoMA9gObBTABGgNRBqoAvgUSAxYFiQLVBRgA0Qb/BpcBKQIz"
        "AJYE0wC/BZsGnAQyBVQEbAH/AzgGWAHqBvED"
    ),
}


def rows(part):
    """The rows of the 1797 images in ``part`` ("train", "val" or "test"), in order."""
    return np.frombuffer(base64.b64decode("".join(ROWS[part].split())), "<u2").astype(np.intp)


def computed(labels):
    """``{part: rows}`` as scikit-learn splits the images whose digits are ``labels``."""
    from sklearn.model_selection import train_test_split

    test_size, seed = DEFAULTS["test_size"], DEFAULTS["seed"]
    everything = np.arange(len(labels))
    rest, test = train_test_split(everything, test_size=test_size, stratify=labels,
                                  random_state=seed)
    train, val = train_test_split(rest, test_size=DEFAULTS["validation_size"] / (1 - test_size),
                                  stratify=labels[rest], random_state=seed)
    return {"train": train, "val": val, "test": test}


def text(labels):
    """This module's source with the rows ``computed(labels)``."""
    with open(__file__) as handle:
        source = handle.read()
    start, end = source.index("ROWS = {\n"), source.index("\n}\n", source.index("ROWS = {\n"))
    return source[:start] + "ROWS = {\n" + _encoded(computed(labels)) + source[end:]


def _encoded(parts):
    lines = []
    for part, found in parts.items():
        data = base64.b64encode(np.asarray(found, "<u2").tobytes()).decode()
        chunks = [data[i:i + 84] for i in range(0, len(data), 84)]
        lines.append(f'    "{part}": (\n' + "".join(f'        "{c}"\n' for c in chunks) + "    ),")
    return "\n".join(lines)
