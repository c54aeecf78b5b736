// ReportCharts.swift — the PNG charts of Reports/, drawn from training histories.
//
// Teaches: what to look at after a run: the loss per epoch (train and test), the test metric,
// and, for compare-levels, how far apart the levels were and how fast each one ran.
// Leaves out: drawing (the Charts library does that).

import Charts
import Foundation
import Level4Manual
import Shared

/// One style's history, as the charts need it.
public struct StyleHistory: Sendable {
    public var level: Int
    /// The style's id: "manual", "keras", ….
    public var style: String
    public var epochs: [EpochRecord]

    public init(level: Int, style: String, epochs: [EpochRecord]) {
        self.level = level
        self.style = style
        self.epochs = epochs
    }

    /// "Level 4 · manual".
    public var label: String { "Level \(level) · \(style)" }
}

/// Builders for the charts of Reports/.
public enum ReportCharts {
    /// A chart file of a report: its name, and how to draw it to a path.
    public typealias File = (name: String, render: (_ path: String) throws -> Void)

    /// Draws and writes each chart into `folder`, in order; returns their names. The first that
    /// cannot be drawn or written stops with one line naming its path and why
    /// ("cannot write chart Reports/loss.png: …"); the ones before it stay written.
    public static func write(_ charts: [File], in folder: String) throws -> [String] {
        for (name, render) in charts {
            let path = (folder as NSString).appendingPathComponent(name)
            do {
                try render(path)
            } catch let error as ChartError {
                throw NeuralLevelsError.failure(error.description)     // "cannot write chart <path>: …"
            } catch {
                throw NeuralLevelsError.failure("cannot write chart \(path): \(error)")
            }
        }
        return charts.map(\.name)
    }

    /// `loss.png`: train and test loss per epoch for every style. Styles whose curves are the
    /// same numbers to the last bit are drawn once, named together ("manual = keras = …"); a
    /// style that differs anywhere gets a line of its own.
    public static func loss(_ styles: [StyleHistory], task: Task) -> LineChart {
        let lossName = task == .classification ? "mean cross-entropy" : "mean squared error"
        var series: [LineSeries] = []
        let curves: [(String, (EpochRecord) -> Double)] = [("train", { $0.trainLoss }), ("test", { $0.testLoss })]
        for (kind, value) in curves {
            for group in coinciding(styles, value: value) {
                series.append(LineSeries(name: "\(group.name) — \(kind)", values: group.values))
            }
        }
        let title = styles.count == 1 ? "\(styles[0].label): loss per epoch" : "Loss per epoch — every style"
        return LineChart(title: title, xLabel: "epoch", yLabel: lossName, series: series)
    }

    /// `accuracy.png` (classification) or `r2.png` (regression): the metric per epoch on the
    /// training batches (as they went, before each update) and on the test set, coinciding
    /// styles drawn once as in ``loss(_:task:)``.
    public static func metric(_ styles: [StyleHistory], task: Task) -> LineChart {
        let name = task == .classification ? "accuracy" : "R²"
        let classifies = task == .classification
        let curves: [(String, (EpochRecord) -> Double)] = [
            ("train", { (classifies ? $0.trainAccuracy : $0.trainR2) ?? .nan }),
            ("test", { (classifies ? $0.testAccuracy : $0.testR2) ?? .nan }),
        ]
        var series: [LineSeries] = []
        for (kind, value) in curves {
            for group in coinciding(styles, value: value) {
                series.append(LineSeries(name: "\(group.name) — \(kind)", values: group.values))
            }
        }
        let title = styles.count == 1 ? "\(styles[0].label): \(name) per epoch" : "\(name.prefix(1).uppercased() + name.dropFirst()) per epoch — every style"
        return LineChart(title: title, xLabel: "epoch", yLabel: name, series: series)
    }

    /// The histories' curves of `value`, one per distinct curve (bit for bit), each named by the
    /// styles that share it: "Level 4 · manual", or "manual = keras = modules (bitwise)".
    static func coinciding(_ styles: [StyleHistory], value: (EpochRecord) -> Double) -> [(name: String, values: [Double])] {
        var groups: [(styles: [StyleHistory], values: [Double])] = []
        for history in styles {
            let values = history.epochs.map(value)
            if let index = groups.firstIndex(where: { $0.values.map(\.bitPattern) == values.map(\.bitPattern) }) {
                groups[index].styles.append(history)
            } else {
                groups.append(([history], values))
            }
        }
        return groups.map { group in
            let name = group.styles.count == 1 ? group.styles[0].label
                : group.styles.count == styles.count ? "all \(styles.count) styles (bitwise identical)"
                : group.styles.map(\.style).joined(separator: " = ") + " (bitwise)"
            return (name, group.values)
        }
    }

    /// The file name of the metric chart for `task`.
    public static func metricFileName(_ task: Task) -> String {
        task == .classification ? "accuracy.png" : "r2.png"
    }

    /// `regression-4d.png`: the test inputs in 3-D, coloured by the true output, the prediction
    /// of the network with `weights` (Level 4's forward pass), and the residual.
    public static func regressionFigure(test data: Dataset<Float>, weights: NetworkParameters<Float>, label: String,
                                        maximumPoints: Int = 2000) -> Scatter3DFigure {
        let test = data.prefix(maximumPoints)
        var network = ManualNetwork(parameters: weights, learningRate: 0)
        _ = network.forward(test.batch(rows: 0..<test.count))
        let points = (0..<test.count).map { (x1: Double(test.inputs[$0, 0]), x2: Double(test.inputs[$0, 1]), x3: Double(test.inputs[$0, 2])) }
        let truth = test.targets.storage.map(Double.init)
        let predicted = network.outputs.storage.map(Double.init)                 // ŷ: [N, 1]
        let residuals = zip(predicted, truth).map { $0 - $1 }
        let low = min(truth.min() ?? 0, predicted.min() ?? 0), high = max(truth.max() ?? 1, predicted.max() ?? 1)
        return Scatter3DFigure(
            title: "Regression test set: y = sin(πx₁)·x₂ + x₃² + ε, \(label)'s fit",
            panels: [
                Scatter3DPanel(title: "true y", points: points, values: truth, colorBarLabel: "y", valueRange: low...high),
                Scatter3DPanel(title: "predicted ŷ", points: points, values: predicted, colorBarLabel: "ŷ", valueRange: low...high),
                Scatter3DPanel(title: "residual ŷ − y", points: points, values: residuals, colormap: .blueWhiteRed,
                               colorBarLabel: "ŷ − y"),
            ],
            bounds: -1...1)
    }
}
