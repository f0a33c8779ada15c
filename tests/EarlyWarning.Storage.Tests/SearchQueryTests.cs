using EarlyWarning.Storage.Sqlite;

namespace EarlyWarning.Storage.Tests;

public class SearchQueryTests
{
    [Theory]
    [InlineData("harvest", new[] { "harvest" })]
    [InlineData("  NEAR(harvest river) ", new[] { "NEAR", "harvest", "river" })]
    [InlineData("text:\"harvest*", new[] { "text", "harvest" })]
    [InlineData("பள்ளி அருகே", new[] { "பள்ளி", "அருகே" })] // vowel signs and virama stay inside the word
    [InlineData("\"'*^-()%_", new string[0])]
    public void Terms_are_runs_of_letters_digits_and_marks(string input, string[] expected) =>
        Assert.Equal(expected, SearchQuery.Terms(input));

    [Fact]
    public void Fts_expression_quotes_every_term_and_terms_are_capped()
    {
        Assert.Equal("\"a\" \"b\"", SearchQuery.ToFts(["a", "b"]));
        Assert.Equal("\"x\"\"y\"", SearchQuery.ToFts(["x\"y"]));
        Assert.Equal(SearchQuery.MaxTerms, SearchQuery.Terms(string.Join(' ', Enumerable.Range(0, 100).Select(i => "w" + i))).Count);
        Assert.Equal("%a\\%b\\_c\\\\%", SearchQuery.ToLike("a%b_c\\"));
    }
}
