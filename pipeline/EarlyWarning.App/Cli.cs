namespace EarlyWarning.App;

/// <summary>Command-line entry (DESIGN.md, "The command line").</summary>
public static class Cli
{
    public static Task<int> RunAsync(string[] args)
    {
        Console.Error.WriteLine("usage: earlywarning run|simulate|train|evaluate|classify|detect ...");
        return Task.FromResult(args.Length == 0 ? 0 : 2);
    }
}
