using OdooOps.Runners.Agent.Pipeline;

namespace OdooOps.Tests.Runners.Agent.Pipeline;

/// <summary>The Python literal subset: values as Python would read them, everything else refused with its line.</summary>
public sealed class PythonLiteralTests
{
    [Theory]
    [InlineData("'a'", "a")]
    [InlineData("\"a\"", "a")]
    [InlineData("'''a\nb'''", "a\nb")]
    [InlineData("\"\"\"say \"hi\"!\"\"\"", "say \"hi\"!")]
    [InlineData("'a' \"b\" '''c'''", "abc")]
    [InlineData("('a'\n 'b')", "ab")]
    [InlineData("'tab\\tnew\\nline\\\\ \\' \\\" \\x41\\101\\u00e9\\U0001F600'", "tab\tnew\nline\\ ' \" AAé😀")]
    [InlineData("'keep \\d unknown'", "keep \\d unknown")]
    [InlineData("'joined \\\nline'", "joined line")]
    [InlineData("r'C:\\new\\t'", "C:\\new\\t")]
    [InlineData("R'\\''", "\\'")]
    [InlineData("u'unicode'", "unicode")]
    [InlineData("b'by\\x41tes'", "byAtes")]
    [InlineData("rb'\\x41'", "\\x41")]
    [InlineData("Br'\\n'", "\\n")]
    [InlineData("''", "")]
    [InlineData("'é 中'", "é 中")]
    public void Reads_strings(string source, string expected) => Assert.Equal(expected, PythonLiteral.Parse(source));

    [Theory]
    [InlineData("0", 0L)]
    [InlineData("42", 42L)]
    [InlineData("-7", -7L)]
    [InlineData("+7", 7L)]
    [InlineData("1_000", 1000L)]
    [InlineData("0x1F", 31L)]
    [InlineData("0o17", 15L)]
    [InlineData("0b101", 5L)]
    [InlineData("00", 0L)]
    [InlineData("9223372036854775807", long.MaxValue)]
    [InlineData("-9223372036854775808", long.MinValue)]
    public void Reads_integers(string source, long expected) => Assert.Equal(expected, PythonLiteral.Parse(source));

    [Theory]
    [InlineData("9.5", 9.5)]
    [InlineData("-0.25", -0.25)]
    [InlineData(".5", 0.5)]
    [InlineData("5.", 5.0)]
    [InlineData("1e3", 1000.0)]
    [InlineData("1.5E-2", 0.015)]
    [InlineData("1_0.0_1", 10.01)]
    public void Reads_floats(string source, double expected) => Assert.Equal(expected, PythonLiteral.Parse(source));

    [Fact]
    public void Reads_constants_and_containers()
    {
        Assert.Equal(true, PythonLiteral.Parse("True"));
        Assert.Equal(false, PythonLiteral.Parse("False"));
        Assert.Null(PythonLiteral.Parse("None"));
        Assert.Equal(new object?[] { 1L, "a", null }, (IEnumerable<object?>)PythonLiteral.Parse("[1, 'a', None,]")!);
        Assert.Equal(new object?[] { "x" }, (IEnumerable<object?>)PythonLiteral.Parse("('x',)")!);
        Assert.Equal(new object?[] { 1L, 2L }, (IEnumerable<object?>)PythonLiteral.Parse("(1, 2)")!);
        Assert.Empty((IEnumerable<object?>)PythonLiteral.Parse("()")!);
        Assert.Empty((IEnumerable<object?>)PythonLiteral.Parse("[]")!);
        Assert.Empty((IReadOnlyDictionary<string, object?>)PythonLiteral.Parse("{}")!);
        var dict = (IReadOnlyDictionary<string, object?>)PythonLiteral.Parse("{'a': {'b': [()]}, 'a2': 1, 'a2': 2}")!;
        Assert.Equal(2L, dict["a2"]);
        var inner = (IReadOnlyDictionary<string, object?>)dict["a"]!;
        Assert.Empty((IEnumerable<object?>)((IReadOnlyList<object?>)inner["b"]!)[0]!);
    }

    [Fact]
    public void Skips_comments_blank_lines_and_line_continuations()
    {
        var value = PythonLiteral.Parse("# -*- coding: utf-8 -*-\n\n  {  # the dict\r\n 'a': [1, # one\n 2],\r 'b': 'x'\n}\n# end\n");
        var dict = (IReadOnlyDictionary<string, object?>)value!;
        Assert.Equal(new object?[] { 1L, 2L }, (IEnumerable<object?>)dict["a"]!);
        Assert.Equal("x", PythonLiteral.Parse("'x' \\\n"));
        Assert.Equal("xy", PythonLiteral.Parse("'x' \\\n 'y'"));
    }

    [Theory]
    [InlineData("__import__('os').system('x')", 1, 1, "'__import__' is not allowed")]
    [InlineData("{\n 'a': __import__('os').system('rm -rf /'),\n}", 2, 7, "'__import__' is not allowed")]
    [InlineData("{\n 'a': 1+1,\n}", 2, 8, "expected ',' or '}', found '+'")]
    [InlineData("{'a': open('/etc/passwd').read()}", 1, 7, "'open' is not allowed")]
    [InlineData("{'a': 'x'.upper()}", 1, 10, "found '.'")]
    [InlineData("{'a': f'{1}'}", 1, 7, "f-strings are not allowed")]
    [InlineData("{'a': [x for x in 'ab']}", 1, 8, "'x' is not allowed")]
    [InlineData("{'a': lambda: 1}", 1, 7, "'lambda' is not allowed")]
    [InlineData("{'a': (1)(2)}", 1, 10, "expected ',' or '}', found '('")]
    [InlineData("{'a': {1, 2}}", 1, 8, "sets are not supported")]
    [InlineData("{'a': {'x'}}", 1, 8, "sets are not supported")]
    [InlineData("{1: 'a'}", 1, 2, "dict keys must be strings")]
    [InlineData("{'a' 1}", 1, 6, "expected ':'")]
    [InlineData("{'a': 1", 1, 8, "expected ',' or '}', found end of file")]
    [InlineData("[1, 2", 1, 6, "found end of file")]
    [InlineData("{'a': 1}}", 1, 9, "after the value")]
    [InlineData("{'a': 1}\n{'b': 2}", 2, 1, "after the value")]
    [InlineData("'a'\n'b'", 2, 1, "after the value")]
    [InlineData("", 1, 1, "the text is empty")]
    [InlineData("# nothing\n", 2, 1, "the text is empty")]
    [InlineData("'abc", 1, 1, "unterminated string")]
    [InlineData("\n'abc\ndef'", 2, 1, "unterminated string")]
    [InlineData("'''abc", 1, 1, "unterminated string")]
    [InlineData("r'\\'", 1, 1, "unterminated string")]
    [InlineData("b'é'", 1, 3, "ASCII")]
    [InlineData("'a' b'b'", 1, 5, "cannot join bytes and text")]
    [InlineData("'\\x4'", 1, 2, "truncated \\xXX escape")]
    [InlineData("'\\N{DASH}'", 1, 2, "\\N{…} escapes are not supported")]
    [InlineData("x'a'", 1, 1, "unknown string prefix 'x'")]
    [InlineData("1j", 1, 1, "complex numbers")]
    [InlineData("0123", 1, 1, "leading zeros")]
    [InlineData("1.2.3", 1, 1, "invalid number")]
    [InlineData("1__0", 1, 1, "invalid number")]
    [InlineData("0x", 1, 1, "invalid number")]
    [InlineData("0b2", 1, 1, "invalid number")]
    [InlineData("12abc", 1, 1, "invalid number")]
    [InlineData("- 'a'", 1, 3, "'-' must be followed by a number")]
    [InlineData("--1", 1, 2, "'-' must be followed by a number")]
    [InlineData("99999999999999999999", 1, 1, "integer out of range")]
    [InlineData("...", 1, 1, "unexpected '.'")]
    [InlineData("{'a': 1} \\ x", 1, 10, "unexpected '\\'")]
    [InlineData("(1, 2", 1, 6, "found end of file")]
    [InlineData("(1 2)", 1, 4, "expected ',' or ')'")]
    public void Refuses_everything_else_with_line_and_column(string source, int line, int column, string expected)
    {
        var error = Assert.Throws<PythonLiteralException>(() => PythonLiteral.Parse(source));
        Assert.Contains(expected, error.Message);
        Assert.Equal((line, column), (error.Line, error.Column));
        Assert.StartsWith($"line {line}, column {column}: ", error.Message);
    }

    [Fact]
    public void Deep_nesting_is_an_error_not_a_stack_overflow()
    {
        var error = Assert.Throws<PythonLiteralException>(() => PythonLiteral.Parse(new string('[', 100_000)));
        Assert.Contains("nest more than", error.Message);
    }
}
