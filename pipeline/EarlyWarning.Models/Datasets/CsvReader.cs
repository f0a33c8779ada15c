using System.Text;

namespace EarlyWarning.Models.Datasets;

/// <summary>
/// A small RFC 4180 CSV reader: quoted fields with embedded separators, doubled quotes and line breaks.
/// Malformed quoting never throws; the record is returned as read and <see cref="LastRecordMalformed"/> is set.
/// </summary>
public sealed class CsvReader
{
    private readonly TextReader _reader;
    private readonly char _separator;
    private readonly StringBuilder _field = new();

    public CsvReader(TextReader reader, char separator = ',')
    {
        _reader = reader;
        _separator = separator;
    }

    /// <summary>1-based line number where the last record started.</summary>
    public long RecordLine { get; private set; }

    /// <summary>True when the last record had a quote problem (unterminated quote or text after a closing quote).</summary>
    public bool LastRecordMalformed { get; private set; }

    private long _line = 1;

    /// <summary>Reads the next record, or returns null at end of input.</summary>
    public List<string>? ReadRecord()
    {
        var c = _reader.Read();
        if (c < 0) return null;
        RecordLine = _line;
        LastRecordMalformed = false;
        var fields = new List<string>();
        _field.Clear();
        var inQuotes = false;
        var quotedField = false;
        while (true)
        {
            if (c < 0)
            {
                if (inQuotes) LastRecordMalformed = true;
                fields.Add(_field.ToString());
                return fields;
            }
            var ch = (char)c;
            if (inQuotes)
            {
                if (ch == '"')
                {
                    if (_reader.Peek() == '"') { _reader.Read(); _field.Append('"'); }
                    else inQuotes = false;
                }
                else
                {
                    if (ch == '\n') _line++;
                    _field.Append(ch);
                }
            }
            else if (ch == '"' && _field.Length == 0 && !quotedField)
            {
                inQuotes = true;
                quotedField = true;
            }
            else if (ch == _separator)
            {
                fields.Add(_field.ToString());
                _field.Clear();
                quotedField = false;
            }
            else if (ch == '\r' || ch == '\n')
            {
                if (ch == '\r' && _reader.Peek() == '\n') _reader.Read();
                _line++;
                fields.Add(_field.ToString());
                return fields;
            }
            else
            {
                if (quotedField) LastRecordMalformed = true; // text after a closing quote
                _field.Append(ch);
            }
            c = _reader.Read();
        }
    }
}
