extension StreamReport {
    /// The accuracy matrix drawn as a heat map (SVG): row `i` = trained through
    /// experience `i`, column `j` = evaluated on experience `j`, each cell's value printed
    /// in it, colours on the viridis scale from 0 to 1. Split scenarios get a second panel
    /// for the task-incremental matrix. Unmeasured cells are grey and empty.
    public func accuracyMatrixSVG() -> String {
        var panels: [(title: String, figures: MatrixFigures)] = [("Class-incremental", classIncremental)]
        if let taskIncremental { panels.append(("Task-incremental", taskIncremental)) }

        let size = panels.map { $0.figures.accuracyMatrix.count }.max() ?? 0
        // Cells of 28 to 64 points, but a grid of at least 200 so the axis titles fit.
        let cell = max(min(64, max(28, 420 / Double(max(size, 1)))), 200 / Double(max(size, 1)))
        let grid = cell * Double(max(size, 1))
        let left = 84.0, top = 64.0, gap = 96.0, legendWidth = 90.0
        let panelWidth = grid + gap
        let width = max(left + panelWidth * Double(panels.count) + legendWidth - gap + 40, 560)
        let height = top + grid + 80

        var canvas = SVGCanvas(width: width, height: height)
        canvas.text("Accuracy matrix: \(scenario) (seed \(seed))", x: 16, y: 26, size: 17, weight: "bold")

        for (p, panel) in panels.enumerated() {
            let x0 = left + panelWidth * Double(p)
            drawMatrix(panel.figures, title: panel.title, x0: x0, y0: top, cell: cell, size: size, canvas: &canvas)
        }

        // Colour legend.
        let legendX = left + panelWidth * Double(panels.count) - gap + 28
        let steps = 20
        let barHeight = grid
        for s in 0..<steps {
            let t = 1 - Double(s) / Double(steps)
            canvas.rect(x: legendX, y: top + barHeight * Double(s) / Double(steps), width: 16,
                        height: barHeight / Double(steps) + 0.5, fill: viridis(t - 0.5 / Double(steps)).fill)
        }
        canvas.rect(x: legendX, y: top, width: 16, height: barHeight, fill: "none", stroke: "#666666")
        for v in [0.0, 0.5, 1.0] {
            canvas.centredText(formatAccuracy(v), x: legendX + 22, y: top + barHeight * (1 - v), size: 11, anchor: .start)
        }
        canvas.text("accuracy", x: legendX + 8, y: top - 10, size: 11, anchor: .middle)
        return canvas.document
    }

    private func drawMatrix(_ figures: MatrixFigures, title: String, x0: Double, y0: Double,
                            cell: Double, size: Int, canvas: inout SVGCanvas) {
        let values = figures.accuracyMatrix
        let grid = cell * Double(max(size, 1))
        canvas.text(title, x: x0 + grid / 2, y: y0 - 14, size: 14, anchor: .middle, weight: "bold")
        let font = min(13, cell * 0.34)
        if values.isEmpty {
            canvas.rect(x: x0, y: y0, width: grid, height: grid, fill: "#eeeeee", stroke: "#999999")
            canvas.centredText("nothing measured", x: x0 + grid / 2, y: y0 + grid / 2, size: 12)
        }
        for (i, row) in values.enumerated() {
            for j in row.indices {
                let x = x0 + cell * Double(j), y = y0 + cell * Double(i)
                if let value = row[j] {
                    let colour = viridis(value)
                    canvas.rect(x: x, y: y, width: cell, height: cell, fill: colour.fill, stroke: "#ffffff",
                                title: "R[\(i)][\(j)] = \(value)")
                    canvas.centredText(formatAccuracy(value), x: x + cell / 2, y: y + cell / 2, size: font,
                                       fill: colour.lightText ? "#ffffff" : "#111111")
                } else {
                    canvas.rect(x: x, y: y, width: cell, height: cell, fill: "#eeeeee", stroke: "#ffffff",
                                title: "R[\(i)][\(j)] not measured")
                }
            }
        }
        // Indices and axis titles.
        for k in 0..<values.count {
            canvas.centredText("\(k)", x: x0 - 10, y: y0 + cell * (Double(k) + 0.5), size: 11, anchor: .end)
            canvas.centredText("\(k)", x: x0 + cell * (Double(k) + 0.5), y: y0 + grid + 12, size: 11)
        }
        canvas.text("evaluated on experience j", x: x0 + grid / 2, y: y0 + grid + 34, size: 12, anchor: .middle)
        canvas.text("trained through experience i", x: x0 - 34, y: y0 + grid / 2, size: 12, anchor: .middle,
                    rotate: -90)
        let line = "ACC \(ChartText.figure(figures.finalAverageAccuracy)) · BWT \(ChartText.figure(figures.bwt, signed: true))"
            + " · forgetting \(ChartText.figure(figures.forgetting))"
        canvas.text(line, x: x0 + grid / 2, y: y0 + grid + 58, size: 12, anchor: .middle)
    }
}
