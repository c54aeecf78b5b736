// ReportCharts.swift — the PNG charts of Reports/, drawn from training histories.
//
// Teaches: what to look at after a run: the loss per epoch (train and test), the test metric,
// and, for compare-levels, how far apart the levels were and how fast each one ran.
// Leaves out: drawing (the Charts library does that).

import Charts
import Foundation
import Shared

/// One level's history, as the charts need it.
public struct LevelHistory: Sendable {
    public var level: Int
    public var name: String
    public var epochs: [EpochRecord]

    public init(level: Int, name: String, epochs: [EpochRecord]) {
        self.level = level
        self.name = name
        self.epochs = epochs
    }

    /// "Level 4 · manual".
    public var label: String { "Level \(level) · \(name)" }
}

/// Builders for the charts of Reports/.
public enum ReportCharts {
    /// `loss.png`: train and test loss per epoch for every level.
    public static func loss(_ levels: [LevelHistory], task: Task) -> LineChart {
        let lossName = task == .classification ? "mean cross-entropy" : "mean squared error"
        var series: [LineSeries] = []
        for history in levels {
            series.append(LineSeries(name: "\(history.label) — train", values: history.epochs.map(\.trainLoss)))
        }
        for history in levels {
            series.append(LineSeries(name: "\(history.label) — test", values: history.epochs.map(\.testLoss)))
        }
        let title = levels.count == 1 ? "\(levels[0].label): loss per epoch" : "Loss per epoch — every level"
        return LineChart(title: title, xLabel: "epoch", yLabel: lossName, series: series)
    }

    /// `accuracy.png` (classification) or `r2.png` (regression): the test metric per epoch.
    public static func metric(_ levels: [LevelHistory], task: Task) -> LineChart {
        let name = task == .classification ? "test accuracy" : "test R²"
        let series = levels.map { history in
            LineSeries(name: history.label,
                       values: history.epochs.map { (task == .classification ? $0.testAccuracy : $0.testR2) ?? .nan })
        }
        return LineChart(title: "\(name.prefix(1).uppercased() + name.dropFirst()) per epoch — every level",
                         xLabel: "epoch", yLabel: name, series: series)
    }

    /// The file name of the metric chart for `task`.
    public static func metricFileName(_ task: Task) -> String {
        task == .classification ? "accuracy.png" : "r2.png"
    }
}
