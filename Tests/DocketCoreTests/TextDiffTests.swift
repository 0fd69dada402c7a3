import DocketCore
import Testing

@Suite("Unified diff")
struct TextDiffTests {
    @Test func equalTextsHaveNoDiff() {
        #expect(TextDiff.unified("a\nb\n", "a\nb\n", oldLabel: "r1", newLabel: "r2") == "")
    }

    @Test func oneChangedLine() {
        let old = "Title\n\nCities buy green.\nEnd\n"
        let new = "Title\n\nCities and regions buy green.\nEnd\n"
        #expect(TextDiff.unified(old, new, oldLabel: "PP-1 rev 1", newLabel: "PP-1 rev 2") == """
            --- PP-1 rev 1
            +++ PP-1 rev 2
            @@ -1,4 +1,4 @@
             Title
             \n-Cities buy green.
            +Cities and regions buy green.
             End

            """)
    }

    @Test func separateHunksAndInsertionsFromEmpty() {
        let old = (1...20).map { "line \($0)" }.joined(separator: "\n") + "\n"
        var newLines = (1...20).map { "line \($0)" }
        newLines[1] = "line two"
        newLines[18] = "line nineteen"
        let diff = TextDiff.unified(old, newLines.joined(separator: "\n") + "\n", oldLabel: "a", newLabel: "b")
        #expect(diff.components(separatedBy: "@@ -").count - 1 == 2)
        #expect(diff.contains("-line 2\n+line two\n"))
        #expect(TextDiff.unified("", "new\n", oldLabel: "a", newLabel: "b") == "--- a\n+++ b\n@@ -0,0 +1,1 @@\n+new\n")
    }
}
