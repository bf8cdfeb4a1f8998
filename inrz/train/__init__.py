"""Meta-learning COIN++ base networks: the training config, training data, the loop, and
multi-process training under torchrun."""
