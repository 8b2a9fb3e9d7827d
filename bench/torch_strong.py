# The strong supervised baseline in PyTorch, on a split given by index: the recipe of
# ../shared/bench/torch_strong_supervised.py (BatchNorm CNN with same padding and global
# average pooling, dropout 0.3, AdamW 1e-3 / 5e-4, label smoothing 0.1, mild affine
# augmentation, 1,500 steps of 64, final model, no selection) and the pixel logistic
# regression, trained on exactly the labelled images our experiment draws, so that
# `deno run -A bench/strong_vs_torch.ts` compares the two side by side.
# Usage: python3 bench/torch_strong.py DATASET_DIR FILE_WITH_INDICES SEED WIDTHS FLIP [STEPS]
#   DATASET_DIR holds the four IDX files (optionally .gz); FILE_WITH_INDICES one index a line;
#   WIDTHS e.g. 16,16,32; FLIP 1 for clothes (mirror images, no rotation), 0 for digits.
# Prints one JSON line: {"cnn_aug": test accuracy, "pixels_lr": ..., "seconds": ...}.
import gzip, json, math, os, sys, time
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F
from sklearn.linear_model import LogisticRegression

root, index_file, seed, widths, flip = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5] == "1"
steps = int(sys.argv[6]) if len(sys.argv) > 6 else 1500
widths = tuple(int(w) for w in widths.split(","))
torch.set_num_threads(int(os.environ.get("TORCH_THREADS", "1"))); torch.manual_seed(seed)

def idx(name, offset):
    path = os.path.join(root, name)
    raw = gzip.open(path + ".gz", "rb").read() if os.path.exists(path + ".gz") else open(path, "rb").read()
    return np.frombuffer(raw, dtype=np.uint8, offset=offset)

trX = torch.tensor(idx("train-images-idx3-ubyte", 16).reshape(-1, 1, 28, 28).astype(np.float32) / 255)
trY = torch.tensor(idx("train-labels-idx1-ubyte", 8).astype(np.int64))
teX = torch.tensor(idx("t10k-images-idx3-ubyte", 16).reshape(-1, 1, 28, 28).astype(np.float32) / 255)
teY = torch.tensor(idx("t10k-labels-idx1-ubyte", 8).astype(np.int64))
lab = np.array([int(l) for l in open(index_file).read().split()])
lx, ly = trX[lab], trY[lab]

def augment(x):
    n = x.shape[0]
    angle = (torch.rand(n) * 2 - 1) * math.radians(0 if flip else 12)
    scale = 0.85 + torch.rand(n) * 0.2
    mirror = torch.where(torch.rand(n) < 0.5, -1.0, 1.0) if flip else torch.ones(n)
    shift = (torch.rand(n, 2) * 2 - 1) * 0.12
    c, s = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([c * mirror, -s, shift[:, 0]], 1), torch.stack([s * mirror, c, shift[:, 1]], 1)], 1)
    return F.grid_sample(x, F.affine_grid(theta, x.shape, align_corners=False), align_corners=False)

def cnn():
    layers, cin = [], 1
    for co in widths:
        layers += [nn.Conv2d(cin, co, 3, padding=1), nn.BatchNorm2d(co), nn.ReLU(), nn.MaxPool2d(2)]
        cin = co
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.3), nn.Linear(cin, 10))

t0 = time.time()
model = cnn()
opt = torch.optim.AdamW(model.parameters(), 1e-3, weight_decay=5e-4)
for _ in range(steps):
    model.train()
    i = torch.randint(0, len(lx), (64,))
    opt.zero_grad()
    F.cross_entropy(model(augment(lx[i])), ly[i], label_smoothing=0.1).backward()
    opt.step()
model.eval()
with torch.no_grad():
    correct = sum((model(teX[i:i + 2000]).argmax(1) == teY[i:i + 2000]).sum().item() for i in range(0, len(teX), 2000))
seconds = time.time() - t0
pixels = LogisticRegression(max_iter=3000, C=0.1).fit(lx.flatten(1).numpy(), ly.numpy()).score(teX.flatten(1).numpy(), teY.numpy())
print(json.dumps({"cnn_aug": correct / len(teX), "pixels_lr": pixels, "seconds": seconds}), flush=True)
