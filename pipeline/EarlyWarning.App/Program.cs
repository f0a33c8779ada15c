namespace EarlyWarning.App;

/// <summary>The <c>earlywarning</c> executable.</summary>
public static class Program
{
    public static Task<int> Main(string[] args) => Cli.RunAsync(args);
}
