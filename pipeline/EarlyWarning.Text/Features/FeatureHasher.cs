using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using EarlyWarning.Text.Internal;
using EarlyWarning.Text.Normalization;
using EarlyWarning.Text.Tokenization;

namespace EarlyWarning.Text.Features;

/// <summary>
/// Hashed word and character n-grams into a fixed feature space, written into caller-provided spans.
/// Thread-safe: holds no mutable state. Allocation-free per call in steady state (per-thread scratch buffers; texts
/// longer than those rent from the shared pool). Two algorithms (<see cref="FeaturizerOptions.Algorithm"/>):
/// <c>ew-hash-v3</c>, the default, writes one entry per n-gram in text order (multiply-shift hashes over 64-bit blocks
/// of four UTF-16 units; no sort); <c>ew-hash-v2</c>, kept for models trained with it, sorts the keys with AVX2
/// sorting networks (<see cref="SimdKeySort"/>; a branch-free radix sort where AVX2 is missing or a text has over
/// 1,024 keys) and merges equal indices without data-dependent branches.
/// </summary>
public sealed class FeatureHasher
{
    private readonly FeaturizerOptions _o;
    private readonly TextNormalizer _normalizer;
    private readonly int _mask;
    private readonly int _keyBits;
    private readonly ulong _wordSeed;
    private readonly ulong _charSeed;
    private readonly bool _v3;
    private readonly bool _v3Default; // v3 with word 1-2-grams and character 3-5-grams: CollectV3Default
    // ew-hash-v3: the seed of each character n-gram length, and the shift that leaves an index and a sign bit.
    private readonly ulong[] _lengthSeeds = new ulong[17];
    private readonly int _keyShift;

    public FeatureHasher(FeaturizerOptions? options = null)
    {
        _o = options ?? FeaturizerOptions.Default;
        if (_o.Dimension <= 0 || _o.Dimension > 1 << 30 || (_o.Dimension & (_o.Dimension - 1)) != 0)
            throw new ArgumentException("Dimension must be a power of two no larger than 2^30", nameof(options));
        // Word unigrams and bigrams are what this algorithm hashes; a wider range would be written into a model's
        // manifest yet featurised as bigrams, so it is refused rather than silently narrowed.
        if (_o.WordNgramMin < 1 || _o.WordNgramMin > _o.WordNgramMax || _o.WordNgramMax > 2)
            throw new ArgumentException("Word n-gram range must satisfy 1 <= min <= max <= 2 (unigrams and/or bigrams)", nameof(options));
        if (_o.CharNgramMax > 0 && (_o.CharNgramMin < 1 || _o.CharNgramMin > _o.CharNgramMax || _o.CharNgramMax > 16))
            throw new ArgumentException("Character n-gram range must satisfy 1 <= min <= max <= 16", nameof(options));
        if (FeaturizerOptions.HashFunctionOf(_o.Algorithm) is null)
            throw new ArgumentException($"Unknown featuriser algorithm '{_o.Algorithm}' (this code runs {string.Join(", ", FeaturizerOptions.SupportedAlgorithms)})", nameof(options));
        _v3 = _o.Algorithm == FeaturizerOptions.AlgorithmV3;
        _v3Default = _v3 && _o.WordNgramMin == 1 && _o.WordNgramMax == 2 && _o.CharNgramMin == 3 && _o.CharNgramMax == 5;
        _mask = _o.Dimension - 1;
        _keyBits = System.Numerics.BitOperations.Log2((uint)_o.Dimension) + 1;
        _normalizer = new TextNormalizer(_o.Normalization);
        _wordSeed = TextHash.Finish((ulong)_o.Seed);
        _charSeed = TextHash.Finish((ulong)_o.Seed ^ 0x5DEECE66DUL);
        for (var n = 1; n < _lengthSeeds.Length; n++) _lengthSeeds[n] = TextHash.Finish(_charSeed + (ulong)n);
        _keyShift = 64 - _keyBits;
    }

    public FeaturizerOptions Options => _o;

    /// <summary>The normaliser this hasher applies before tokenising.</summary>
    public TextNormalizer Normalizer => _normalizer;

    /// <summary>
    /// Featurises one raw text: normalises, tokenises, hashes n-grams, scales. Writes at most
    /// <c>min(indices.Length, MaxFeatures)</c> (index, value) pairs and returns the count: under v3 one per n-gram in
    /// text order (an index may repeat; a linear model sums them), under v2 distinct indices in ascending order with
    /// duplicates summed. Slots past the count may be overwritten too (the caller reads only the count).
    /// </summary>
    public int Featurize(ReadOnlySpan<char> text, Span<int> indices, Span<float> values)
    {
        var scratch = ThreadScratch.Current;
        char[]? rented = null;
        try
        {
            // Normalised text is rarely longer than the input: try the thread's buffer, rent the worst case if needed.
            if (_normalizer.Normalize(text, scratch.Normalized, out var n, scratch) == OperationStatus.Done)
                return FeaturizeNormalized(scratch.Normalized.AsSpan(0, n), indices, values, scratch);
            rented = ArrayPool<char>.Shared.Rent(TextNormalizer.MaxOutputLength(text.Length));
            _normalizer.Normalize(text, rented, out n, scratch);
            return FeaturizeNormalized(rented.AsSpan(0, n), indices, values, scratch);
        }
        finally { ThreadScratch.Return(rented); }
    }

    /// <summary>Featurises text that is already normalised with this hasher's normalisation steps.</summary>
    public int FeaturizeNormalized(ReadOnlySpan<char> norm, Span<int> indices, Span<float> values) =>
        FeaturizeNormalized(norm, indices, values, ThreadScratch.Current);

    // The thread's scratch passed in by the caller that already looked it up (a thread-static read is a call on Linux).
    private int FeaturizeNormalized(ReadOnlySpan<char> norm, Span<int> indices, Span<float> values, ThreadScratch scratch)
    {
        var cap = Math.Min(Math.Min(indices.Length, values.Length), _o.MaxFeatures);
        if (cap <= 0) return 0;
        var perChar = 2 + (_o.CharNgramMax > 0 ? _o.CharNgramMax - _o.CharNgramMin + 1 : 0);
        var rawCap = norm.Length * perChar + 3 * perChar + 16;
        int[]? rentedRaw = null, rentedSorted = null;
        try
        {
            var raw = ThreadScratch.Get(scratch.Keys, rawCap, ref rentedRaw);
            var count = Collect(norm, raw, scratch.PaddedWord);
            if (_v3) return WriteEntries(raw.AsSpan(0, Math.Min(count, cap)), indices, values, _o.L2Normalize);
            int w;
            if (SimdKeySort.IsSupported && count <= SimdKeySort.MaxKeys && raw.Length >= SimdKeySort.PaddedLength(count))
            {
                SimdKeySort.Sort(raw, count);
                w = MergeSorted(raw.AsSpan(0, count), indices[..cap], values[..cap], scratch);
            }
            else
            {
                var sorted = ThreadScratch.Get(scratch.Sorted, rawCap, ref rentedSorted);
                w = Merge(KeySort.Sort(raw.AsSpan(0, count), sorted.AsSpan(0, count), _keyBits), indices[..cap], values[..cap]);
            }
            if (_o.L2Normalize) ScaleToUnitNorm(values[..w]);
            return w;
        }
        finally
        {
            ThreadScratch.Return(rentedRaw);
            ThreadScratch.Return(rentedSorted);
        }
    }

    /// <summary>Describes the word n-grams of a text with the indices and signs Featurize gives them (for explanations; allocates).</summary>
    public IReadOnlyList<(string Ngram, int Index, float Sign)> Describe(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return DescribeNormalized(_normalizer.Normalize(text));
    }

    /// <summary>
    /// <see cref="Describe"/> of text that is already normalised with this hasher's normalisation steps (the caller
    /// normalised once and reuses the result); gives exactly what <see cref="Describe"/> gives for the raw text.
    /// </summary>
    public IReadOnlyList<(string Ngram, int Index, float Sign)> DescribeNormalized(string norm)
    {
        ArgumentNullException.ThrowIfNull(norm);
        var ngrams = new WordNgram[MaxWordNgrams(norm.Length)];
        var n = DescribeNormalized(norm.AsSpan(), ngrams);
        var list = new List<(string, int, float)>(n);
        for (var i = 0; i < n; i++) list.Add((ngrams[i].ToString(norm), ngrams[i].Index, ngrams[i].Sign));
        return list;
    }

    /// <summary>
    /// The word n-grams of normalised text (what <see cref="DescribeNormalized(string)"/> gives as strings), in order,
    /// as positions in <paramref name="norm"/> (no allocation): writes at most
    /// <c>output.Length</c> and returns how many; <see cref="MaxWordNgrams"/> is always enough.
    /// </summary>
    public int DescribeNormalized(ReadOnlySpan<char> norm, Span<WordNgram> output)
    {
        var n = 0;
        var havePrev = false;
        Token prev = default;
        ulong prevHash = 0;
        foreach (var tok in Tokenizer.Tokenize(norm))
        {
            var h = WordHash(norm.Slice(tok.Start, tok.Length));
            if (_o.WordNgramMin <= 1)
            {
                if (n == output.Length) return n;
                var k = WordKey(h);
                output[n++] = new WordNgram(tok.Start, tok.Length, -1, 0, k >> 1, (k & 1) == 0 ? 1f : -1f);
            }
            if (_o.WordNgramMax >= 2 && havePrev)
            {
                if (n == output.Length) return n;
                var kb = WordKey(BigramHash(prevHash, h));
                output[n++] = new WordNgram(prev.Start, prev.Length, tok.Start, tok.Length, kb >> 1, (kb & 1) == 0 ? 1f : -1f);
            }
            prev = tok;
            prevHash = h;
            havePrev = true;
        }
        return n;
    }

    /// <summary>An upper bound on the word n-grams of a normalised text of <paramref name="length"/> characters.</summary>
    public static int MaxWordNgrams(int length) => 2 * length + 2;

    // Raw features as (index << 1 | negative) keys, so one primitive sort groups them.
    private int Collect(ReadOnlySpan<char> norm, int[] raw, char[] padded)
    {
        if (_v3Default) return CollectV3Default(norm, raw, padded);
        var count = 0;
        ulong prev = 0;
        var havePrev = false;
        var unigrams = _o.WordNgramMin <= 1;
        var bigrams = _o.WordNgramMax >= 2;
        var chars = _o.CharNgramMax > 0;
        foreach (var tok in Tokenizer.Tokenize(norm))
        {
            var word = norm.Slice(tok.Start, tok.Length);
            var h = WordHash(word);
            if (unigrams) raw[count++] = WordKey(h);
            if (bigrams && havePrev) raw[count++] = WordKey(BigramHash(prev, h));
            prev = h;
            havePrev = true;
            if (chars && tok.Kind == TokenKind.Word)
            {
                if (_v3) count = AddCharNgramsV3(word, raw, count); // the default configuration takes CollectV3Default
                else count = _o.CharNgramMin == 3 && _o.CharNgramMax == 5 ? AddCharNgrams35(word, raw, count, padded) : AddCharNgrams(word, raw, count);
            }
        }
        return count;
    }

    // Character n-grams of "<word>" hashed incrementally from each start position (no copy of the padded word).
    private int AddCharNgrams(ReadOnlySpan<char> word, int[] raw, int count)
    {
        int min = _o.CharNgramMin, max = _o.CharNgramMax;
        var padded = word.Length + 2;
        for (var start = 0; start + min <= padded; start++)
        {
            var h = _charSeed;
            var limit = Math.Min(max, padded - start);
            for (var k = 0; k < limit; k++)
            {
                var p = start + k;
                var c = p == 0 ? '<' : p == padded - 1 ? '>' : word[p - 1];
                h = TextHash.Step(h, c);
                if (k + 1 >= min) raw[count++] = Key(TextHash.Finish(h ^ (ulong)(k + 1)));
            }
        }
        return count;
    }

    // The default 3..5 range: the same hashes as AddCharNgrams, over a copy of the word padded as '<' word '>', so the
    // inner loop has no edge tests. Starts 0 .. n-3 have all three n-grams; the last two starts (a 4- and 3-gram, then
    // a 3-gram) are unrolled after it. Words of one or two letters go through the general loop.
    private int AddCharNgrams35(ReadOnlySpan<char> word, int[] raw, int count, char[] padded)
    {
        var n = word.Length;
        if (n < 3 || n + 2 > padded.Length) return AddCharNgrams(word, raw, count);
        padded[0] = '<';
        word.CopyTo(padded.AsSpan(1));
        padded[n + 1] = '>';
        var seed = _charSeed;
        var mask = _mask;
        var signed = _o.Signed ? 1 : 0;
        ref var p = ref MemoryMarshal.GetArrayDataReference(padded);
        ref var dst = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(raw), count);
        _ = raw[count + 3 * n]; // the n starts write 3n - 3 keys: one bounds check (with room to spare) for all of them
        nint w = 0;
        nint last = n - 2; // starts 0 .. n-3 have a 5-gram
        for (nint s = 0; s < last; s++)
        {
            var h = TextHash.Step(TextHash.Step(TextHash.Step(seed, Unsafe.Add(ref p, s)), Unsafe.Add(ref p, s + 1)), Unsafe.Add(ref p, s + 2));
            Unsafe.Add(ref dst, w) = KeyOf(TextHash.Finish(h ^ 3), mask, signed);
            h = TextHash.Step(h, Unsafe.Add(ref p, s + 3));
            Unsafe.Add(ref dst, w + 1) = KeyOf(TextHash.Finish(h ^ 4), mask, signed);
            h = TextHash.Step(h, Unsafe.Add(ref p, s + 4));
            Unsafe.Add(ref dst, w + 2) = KeyOf(TextHash.Finish(h ^ 5), mask, signed);
            w += 3;
        }
        // Start n-2 covers word[n-3], word[n-2], word[n-1], '>': a 3-gram and a 4-gram; start n-1 a 3-gram.
        var t = TextHash.Step(TextHash.Step(TextHash.Step(seed, Unsafe.Add(ref p, last)), Unsafe.Add(ref p, last + 1)), Unsafe.Add(ref p, last + 2));
        Unsafe.Add(ref dst, w) = KeyOf(TextHash.Finish(t ^ 3), mask, signed);
        t = TextHash.Step(t, Unsafe.Add(ref p, last + 3));
        Unsafe.Add(ref dst, w + 1) = KeyOf(TextHash.Finish(t ^ 4), mask, signed);
        var u = TextHash.Step(TextHash.Step(TextHash.Step(seed, Unsafe.Add(ref p, last + 1)), Unsafe.Add(ref p, last + 2)), Unsafe.Add(ref p, last + 3));
        Unsafe.Add(ref dst, w + 2) = KeyOf(TextHash.Finish(u ^ 3), mask, signed);
        return count + (int)w + 3;
    }

    // ew-hash-v3 character n-grams of the padded word p = '<' word '>': the n-gram of length n at start s is the units
    // p[s..s+n) taken as 64-bit blocks of four (little-endian, the last block's missing units zero), h = seed(n),
    // h = (h ^ block) * M for each block, and its key is h's top (index bits + 1) bits: the index above the sign.
    // Multiply-shift: the top bits of a product depend on every bit of the block. This general path reads the units in
    // place; the unrolled 3..5 path below copies the padded word with zero units after it and reads whole blocks.
    private const ulong BlockMultiplier = 0x9E3779B97F4A7C15UL;

    private int AddCharNgramsV3(ReadOnlySpan<char> word, int[] raw, int count)
    {
        int min = _o.CharNgramMin, max = _o.CharNgramMax;
        var len = word.Length + 2;
        var keep = _o.Signed ? -1 : ~1;
        for (var start = 0; start + min <= len; start++)
        {
            var limit = Math.Min(max, len - start);
            for (var n = min; n <= limit; n++)
            {
                var h = _lengthSeeds[n];
                ulong block = 0;
                for (var k = 0; k < n; k++)
                {
                    var p = start + k;
                    var c = p == 0 ? '<' : p == len - 1 ? '>' : word[p - 1];
                    block |= (ulong)c << (16 * (k & 3));
                    if ((k & 3) == 3 || k == n - 1)
                    {
                        h = (h ^ block) * BlockMultiplier;
                        block = 0;
                    }
                }
                raw[count++] = (int)(h >> _keyShift) & keep;
            }
        }
        return count;
    }

    // Collect for ew-hash-v3 with word unigrams and bigrams and character 3- to 5-grams (the default), in one method
    // whose state the JIT keeps in registers: the same keys, in the same order, as the general loop with
    // AddCharNgramsV3. The word is copied as '<' word '>' with zero units after it; per start, one unaligned 64-bit
    // read gives the 3-gram (its low 48 bits) and the 4-gram, and the 5-gram adds the fifth unit as a second block:
    // 4 multiplies per start; words of one and two letters ("a", "rt", "is": a quarter of English tokens) take the
    // same copy and the last starts' code. The copy is one 32-byte move where the text has 16 units from the word's
    // start (a typical word is shorter), else an exact copy; only words longer than the scratch take the general loop.
    private int CollectV3Default(ReadOnlySpan<char> norm, int[] raw, char[] padded)
    {
        ulong wordSeed = _wordSeed, bigramSeed = _charSeed, s3 = _lengthSeeds[3], s4 = _lengthSeeds[4], s5 = _lengthSeeds[5];
        var shift = _keyShift;
        var keep = _o.Signed ? -1 : ~1;
        const ulong Low3 = 0x0000_FFFF_FFFF_FFFFUL;
        ref var dst = ref MemoryMarshal.GetArrayDataReference(raw);
        ref var text = ref MemoryMarshal.GetReference(norm);
        ref var p = ref Unsafe.As<char, byte>(ref MemoryMarshal.GetArrayDataReference(padded));
        _ = padded[Vector256<ushort>.Count + 1]; // room for the 32-byte copy after '<'
        nint count = 0;
        ulong prev = 0;
        nint bigram = 0; // 0 before the first token, then 1: the bigram key is written and kept from the second on
        // Plain words, numbers, Burmese syllables, mentions and hashtags are found here (no call per token); URLs,
        // emoji and the runs of no-space bigrams by an enumerator started where the scan stands.
        var i = 0;
        var special = default(TokenEnumerator);
        var inRun = false;
        var burmeseEnd = 0; // inside a Burmese run, its end: its syllables are found here too
        while (true)
        {
            Token tok;
            if (i < burmeseEnd)
            {
                var end = TokenEnumerator.SyllableEnd(norm, i, burmeseEnd);
                tok = new Token(i, end - i, (TokenEnumerator.Classes[norm[i]] & TokenEnumerator.BurmeseDigit) != 0 ? TokenKind.Number : TokenKind.Syllable);
                i = end;
            }
            else if (!inRun)
            {
                i = TokenEnumerator.NextTokenStart(norm, i, out var f);
                if (i >= norm.Length) break;
                if (TokenEnumerator.IsPlainStart(norm, i, f))
                {
                    var end = TokenEnumerator.PlainTokenEnd(norm, i, f, out var digitsOnly);
                    tok = new Token(i, end - i, digitsOnly ? TokenKind.Number : TokenKind.Word);
                    i = end;
                }
                else if ((f & TokenEnumerator.BurmeseRun) != 0)
                {
                    burmeseEnd = TokenEnumerator.BurmeseRunEnd(norm, i);
                    continue;
                }
                else if (norm[i] is '#' or '@')
                {
                    var end = TokenEnumerator.TagEnd(norm, i);
                    if (end == i + 1) { i = end; continue; } // a lone '#' or '@'
                    tok = new Token(i, end - i, norm[i] == '#' ? TokenKind.Hashtag : TokenKind.Mention);
                    i = end;
                }
                else
                {
                    special = new TokenEnumerator(norm, i);
                    if (!special.MoveNext()) break;
                    tok = special.Current;
                    inRun = special.InRun;
                    i = special.Position;
                }
            }
            else
            {
                if (!special.MoveNext()) break;
                tok = special.Current;
                inRun = special.InRun;
                i = special.Position;
            }
            var word = norm.Slice(tok.Start, tok.Length);
            var h = WordBlockHash(word, wordSeed);
            _ = raw[(int)count + 3 * word.Length + 2]; // this token's keys: 2 word keys and at most max(3n - 3, 1) n-gram keys
            Unsafe.Add(ref dst, count) = (int)(h >> shift) & keep;
            Unsafe.Add(ref dst, count + 1) = (int)((((prev ^ bigramSeed) * BlockMultiplier) ^ h) * BlockMultiplier >> shift) & keep;
            count += 1 + bigram;
            bigram = 1;
            prev = h;
            if (tok.Kind != TokenKind.Word) continue;
            var n = word.Length;
            if (n + 6 > padded.Length)
            {
                count = AddCharNgramsV3(word, raw, (int)count);
                continue;
            }
            Unsafe.As<byte, char>(ref p) = '<';
            if (n <= Vector256<ushort>.Count && tok.Start + Vector256<ushort>.Count <= norm.Length)
                Vector256.LoadUnsafe(ref Unsafe.As<char, ushort>(ref Unsafe.Add(ref text, tok.Start)))
                    .StoreUnsafe(ref Unsafe.As<byte, ushort>(ref Unsafe.Add(ref p, 2)));
            else word.CopyTo(padded.AsSpan(1));
            Unsafe.As<byte, char>(ref Unsafe.Add(ref p, 2 * (n + 1))) = '>';
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref p, 2 * (n + 2)), 0UL);
            ref var d = ref Unsafe.Add(ref dst, count);
            if (n == 1)
            {
                // "<c>": one 3-gram.
                d = (int)(((s3 ^ (Unsafe.ReadUnaligned<ulong>(ref p) & Low3)) * BlockMultiplier) >> shift) & keep;
                count++;
                continue;
            }
            nint w = 0;
            nint last = n - 2; // starts 0 .. n-3 have a 5-gram (none for two letters: the tail below is all of "<ab>")
            for (nint st = 0; st < last; st++)
            {
                var x = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, 2 * st));
                ulong c5 = Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref p, 2 * st + 8));
                Unsafe.Add(ref d, w) = (int)(((s3 ^ (x & Low3)) * BlockMultiplier) >> shift) & keep;
                Unsafe.Add(ref d, w + 1) = (int)(((s4 ^ x) * BlockMultiplier) >> shift) & keep;
                Unsafe.Add(ref d, w + 2) = (int)(((((s5 ^ x) * BlockMultiplier) ^ c5) * BlockMultiplier) >> shift) & keep;
                w += 3;
            }
            var y = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, 2 * last));
            Unsafe.Add(ref d, w) = (int)(((s3 ^ (y & Low3)) * BlockMultiplier) >> shift) & keep;
            Unsafe.Add(ref d, w + 1) = (int)(((s4 ^ y) * BlockMultiplier) >> shift) & keep;
            var z = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, 2 * (last + 1)));
            Unsafe.Add(ref d, w + 2) = (int)(((s3 ^ (z & Low3)) * BlockMultiplier) >> shift) & keep;
            count += w + 3;
        }
        return (int)count;
    }

    /// <summary>
    /// ew-hash-v3's output: each key (index &lt;&lt; 1 | negative) as its index and its sign times the scale
    /// (1/√(keys) when normalising, else 1), in the keys' order. Returns the number written.
    /// </summary>
    internal static int WriteEntries(ReadOnlySpan<int> keys, Span<int> indices, Span<float> values, bool normalize)
    {
        var n = Math.Min(keys.Length, Math.Min(indices.Length, values.Length));
        if (n == 0) return 0;
        var scale = normalize ? 1f / MathF.Sqrt(n) : 1f;
        var scaleBits = BitConverter.SingleToInt32Bits(scale);
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref var k0 = ref MemoryMarshal.GetReference(keys);
            ref var i0 = ref MemoryMarshal.GetReference(indices);
            ref var v0 = ref Unsafe.As<float, int>(ref MemoryMarshal.GetReference(values));
            var bits = Vector256.Create(scaleBits);
            for (; i + Vector256<int>.Count <= n; i += Vector256<int>.Count)
            {
                var k = Vector256.LoadUnsafe(ref k0, (nuint)i);
                Vector256.ShiftRightLogical(k, 1).StoreUnsafe(ref i0, (nuint)i);
                (bits ^ Vector256.ShiftLeft(k & Vector256<int>.One, 31)).StoreUnsafe(ref v0, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            var k = keys[i];
            indices[i] = k >>> 1;
            values[i] = BitConverter.Int32BitsToSingle(scaleBits ^ (k << 31));
        }
        return n;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int KeyOf(ulong h, int mask, int signed) => ((int)h & mask) << 1 | ((int)(h >> 63) & signed);

    private int Key(ulong h) => (Index(h) << 1) | (_o.Signed ? (int)(h >> 63) : 0);

    // Word n-grams. v2: FNV-1a + fmix64 per token, fmix64 of the pair for bigrams, index from the low bits and sign from
    // the top bit. v3: the token's UTF-16 units in 64-bit blocks of four as for character n-grams (seeded with the word
    // seed and the length), a bigram as ((first ^ seed) * M ^ second) * M, and the key from the top bits.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong WordHash(ReadOnlySpan<char> word) => _v3 ? WordBlockHash(word, _wordSeed) : TextHash.Hash(word, _wordSeed);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong BigramHash(ulong first, ulong second) =>
        _v3 ? (((first ^ _charSeed) * BlockMultiplier) ^ second) * BlockMultiplier : TextHash.Combine(first, second);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int WordKey(ulong h) => _v3 ? (int)(h >> _keyShift) & (_o.Signed ? -1 : ~1) : Key(h);

    private static ulong WordBlockHash(ReadOnlySpan<char> word, ulong seed)
    {
        var h = seed + (ulong)word.Length;
        ref var p = ref Unsafe.As<char, byte>(ref MemoryMarshal.GetReference(word));
        var bytes = 2 * word.Length;
        var i = 0;
        for (; i + 8 <= bytes; i += 8) h = (h ^ Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, i))) * BlockMultiplier;
        var rest = bytes - i;
        if (rest == 0) return h;
        ulong block = rest switch
        {
            2 => Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref p, i)),
            4 => Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, i)),
            _ => Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, i)) | (ulong)Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref p, i + 4)) << 32,
        };
        return (h ^ block) * BlockMultiplier;
    }

    private int Index(ulong h) => (int)(h & (ulong)_mask);

    // Sums the signs of equal indices (sorted keys) and drops sums that cancelled (the radix-sort path).
    internal static int Merge(ReadOnlySpan<int> keys, Span<int> indices, Span<float> values)
    {
        if (keys.Length == 0 || indices.Length == 0) return 0;
        var w = 0;
        var cur = keys[0] >> 1;
        var v = 1 - ((keys[0] & 1) << 1);
        for (var i = 1; i < keys.Length; i++)
        {
            var k = keys[i];
            var index = k >> 1;
            var sign = 1 - ((k & 1) << 1);
            if (index == cur)
            {
                v += sign;
                continue;
            }
            if (v != 0) // signed collisions that cancelled out are dropped
            {
                indices[w] = cur;
                values[w] = v;
                if (++w == indices.Length) break;
            }
            cur = index;
            v = sign;
        }
        if (v != 0 && w < indices.Length)
        {
            indices[w] = cur;
            values[w] = v;
            w++;
        }
        return w;
    }

    /// <summary>
    /// <see cref="Merge"/> without a data-dependent branch (a post's keys are mostly distinct, so "same index as the
    /// last?" mispredicts whenever it is not): every step writes the group so far and advances past it only when the
    /// next key starts a new index and the group's sum is non-zero. Writes into the outputs when they have room for
    /// one slot per key, else into the thread's scratch and copies the first <c>indices.Length</c> pairs.
    /// </summary>
    internal static int MergeSorted(ReadOnlySpan<int> keys, Span<int> indices, Span<float> values, ThreadScratch scratch)
    {
        if (keys.IsEmpty || indices.IsEmpty) return 0;
        if (indices.Length > keys.Length && values.Length > keys.Length) return MergeSortedInto(keys, indices, values);
        var idx = scratch.MergedIndices;
        var val = scratch.MergedValues;
        var w = Math.Min(MergeSortedInto(keys, idx, val), Math.Min(indices.Length, values.Length));
        idx.AsSpan(0, w).CopyTo(indices);
        val.AsSpan(0, w).CopyTo(values);
        return w;
    }

    // Needs keys.Length + 1 slots in each output (the last step's write lands one past the last kept pair at most).
    private static int MergeSortedInto(ReadOnlySpan<int> keys, Span<int> indices, Span<float> values)
    {
        if (indices.Length <= keys.Length || values.Length <= keys.Length) throw new ArgumentException("outputs need keys.Length + 1 slots");
        ref var k0 = ref MemoryMarshal.GetReference(keys);
        ref var i0 = ref MemoryMarshal.GetReference(indices);
        ref var v0 = ref MemoryMarshal.GetReference(values);
        nint w = 0;
        var cur = k0 >> 1;
        var v = 1 - ((k0 & 1) << 1);
        for (nint i = 1; i < keys.Length; i++)
        {
            var k = Unsafe.Add(ref k0, i);
            var index = k >> 1;
            Unsafe.Add(ref i0, w) = cur;
            Unsafe.Add(ref v0, w) = v;
            var next = index != cur ? 1 : 0;
            w += next & (v != 0 ? 1 : 0);             // keep the group just closed unless it cancelled out
            v = (v & (next - 1)) + 1 - ((k & 1) << 1); // a new group starts from this key's sign
            cur = index;
        }
        Unsafe.Add(ref i0, w) = cur;
        Unsafe.Add(ref v0, w) = v;
        return (int)w + (v != 0 ? 1 : 0);
    }

    private static void ScaleToUnitNorm(Span<float> values)
    {
        if (values.IsEmpty) return;
        var sum = 0f;
        foreach (var x in values) sum += x * x;
        var inv = 1f / MathF.Sqrt(sum);
        for (var j = 0; j < values.Length; j++) values[j] *= inv;
    }
}

/// <summary>
/// A word unigram (<see cref="SecondStart"/> is -1) or bigram of a normalised text, by position: the n-gram's text is
/// the first word, or the first word, one space and the second; with its feature index and sign.
/// </summary>
public readonly record struct WordNgram(int FirstStart, int FirstLength, int SecondStart, int SecondLength, int Index, float Sign)
{
    public bool IsBigram => SecondStart >= 0;

    /// <summary>Characters of the n-gram's text.</summary>
    public int TextLength => IsBigram ? FirstLength + 1 + SecondLength : FirstLength;

    /// <summary>The n-gram's text (allocates).</summary>
    public string ToString(ReadOnlySpan<char> norm) => IsBigram
        ? string.Concat(norm.Slice(FirstStart, FirstLength), " ", norm.Slice(SecondStart, SecondLength))
        : new string(norm.Slice(FirstStart, FirstLength));

    /// <summary>Ordinal comparison of two n-grams' texts, as <see cref="string.CompareOrdinal(string, string)"/> of <see cref="ToString(ReadOnlySpan{char})"/> would give.</summary>
    public static int CompareOrdinal(ReadOnlySpan<char> norm, in WordNgram x, in WordNgram y)
    {
        int lx = x.TextLength, ly = y.TextLength;
        var n = Math.Min(lx, ly);
        for (var i = 0; i < n; i++)
        {
            var d = x.At(norm, i) - y.At(norm, i);
            if (d != 0) return d;
        }
        return lx - ly;
    }

    private char At(ReadOnlySpan<char> norm, int i) =>
        i < FirstLength ? norm[FirstStart + i] : i == FirstLength ? ' ' : norm[SecondStart + i - FirstLength - 1];
}
