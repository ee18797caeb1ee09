"""AES (FIPS 197) and CTR mode (SP 800-38A) in plain Python, written from the standards: the reference
the aes checker compares pyaes's answers with. The S-box is computed (inverse in GF(2^8), then the
affine map), not copied, so it shares no table with the implementation under test."""


def _xtime(a):
    return ((a << 1) ^ 0x1B) & 0xFF if a & 0x80 else a << 1


def _multiply(a, b):
    product = 0
    while b:
        if b & 1:
            product ^= a
        a, b = _xtime(a), b >> 1
    return product


def _sbox():
    box = []
    for x in range(256):
        inverse = next((y for y in range(1, 256) if _multiply(x, y) == 1), 0)
        s = inverse
        for shift in range(1, 5):
            s ^= ((inverse << shift) | (inverse >> (8 - shift))) & 0xFF
        box.append(s ^ 0x63)
    return box


SBOX = _sbox()


def expand_key(key):
    """The round keys, as 4-byte words (Nk = 4, 6 or 8)."""
    nk = len(key) // 4
    if len(key) not in (16, 24, 32):
        raise ValueError("AES keys are 16, 24 or 32 bytes")
    rounds = nk + 6
    words = [list(key[4 * i : 4 * i + 4]) for i in range(nk)]
    rcon = 1
    for i in range(nk, 4 * (rounds + 1)):
        word = list(words[i - 1])
        if i % nk == 0:
            word = [SBOX[b] for b in word[1:] + word[:1]]
            word[0] ^= rcon
            rcon = _xtime(rcon)
        elif nk > 6 and i % nk == 4:
            word = [SBOX[b] for b in word]
        words.append([a ^ b for a, b in zip(words[i - nk], word)])
    return words, rounds


def encrypt_block(expanded, block):
    words, rounds = expanded
    # state[c][r]: column c, row r (the input fills the columns in turn)
    state = [[block[4 * c + r] ^ words[c][r] for r in range(4)] for c in range(4)]
    for round_ in range(1, rounds + 1):
        state = [[SBOX[state[(c + r) % 4][r]] for r in range(4)] for c in range(4)]  # SubBytes, ShiftRows
        if round_ != rounds:  # MixColumns
            state = [
                [_xtime(col[r]) ^ _xtime(col[(r + 1) % 4]) ^ col[(r + 1) % 4] ^ col[(r + 2) % 4] ^ col[(r + 3) % 4]
                 for r in range(4)]
                for col in state
            ]
        state = [[state[c][r] ^ words[4 * round_ + c][r] for r in range(4)] for c in range(4)]
    return bytes(state[c][r] for c in range(4) for r in range(4))


def ctr(key, counter, data):
    """CTR mode: the counter block (a 128-bit big-endian number) is encrypted and XORed in, then incremented."""
    expanded = expand_key(key)
    out = bytearray()
    for at in range(0, len(data), 16):
        stream = encrypt_block(expanded, counter.to_bytes(16, "big"))
        out += bytes(a ^ b for a, b in zip(data[at : at + 16], stream))
        counter = (counter + 1) % (1 << 128)
    return bytes(out)
