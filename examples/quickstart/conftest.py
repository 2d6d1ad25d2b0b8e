import numpy as np
import pytest

WORDS = ["free", "money", "offer", "meeting", "lunch"]  # the model's inputs, in this order
CLASSES = ["ham", "spam"]  # its outputs, in this order
WEIGHTS = np.array([[-1.0, 2.0], [-1.0, 2.0], [-1.0, 2.5], [1.5, -2.0], [1.0, -1.0]])


def spam_logits(x):  # x: one row per input, 1.0 where the word occurs, else 0.0
    return x @ WEIGHTS + [0.3, -0.3]


@pytest.fixture(scope="session")
def featureprobe_model(featureprobe_load):
    return featureprobe_load(spam_logits, features=WORDS, classes=CLASSES, outputs="logits")
