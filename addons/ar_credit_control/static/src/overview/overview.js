import { Component, onWillStart, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { formatFloat, formatMonetary } from "@web/views/fields/formatters";

/**
 * The credit controller's overview: the landing screen of the Credit Control app.
 *
 * All figures come from one call (ar.overview.get_overview) for the companies selected in
 * the company switcher; every tile opens the records behind it (ar.overview.action_open_tile).
 */
export class CreditControlOverview extends Component {
    static template = "ar_credit_control.Overview";
    static props = ["*"];

    setup() {
        this.orm = useService("orm");
        this.actionService = useService("action");
        this.state = useState({ data: null });
        onWillStart(async () => {
            this.state.data = await this.orm.call("ar.overview", "get_overview", []);
        });
    }

    get data() {
        return this.state.data;
    }

    money(amount) {
        return formatMonetary(amount, { currencyId: this.data.currency.id });
    }

    /** Amounts on the charts' axes: 1.2M, 350k. */
    short(amount) {
        const size = Math.abs(amount);
        if (size >= 1e6) {
            return `${formatFloat(amount / 1e6, { digits: [false, 1] })}M`;
        }
        if (size >= 1e3) {
            return `${formatFloat(amount / 1e3, { digits: [false, 0] })}k`;
        }
        return formatFloat(amount, { digits: [false, 0] });
    }

    number(value, digits = 1) {
        return value === null || value === undefined
            ? "–"
            : formatFloat(value, { digits: [false, digits] });
    }

    percent(value) {
        return value === null || value === undefined ? "–" : `${this.number(value)} %`;
    }

    /** Bar width or height in % of the largest value of the series. */
    barSize(amount, series) {
        const largest = Math.max(...series.map((item) => Math.abs(item.amount)), 0);
        return largest ? Math.max((100 * Math.abs(amount)) / largest, 0.5) : 0;
    }

    /** SVG polyline points of a KPI over the trend's months, in a 100 x 30 box. */
    sparkline(kpi) {
        const points = this.data.trend
            .map((month, index) => [index, month[kpi]])
            .filter(([, value]) => value !== null);
        if (points.length < 2) {
            return "";
        }
        const values = points.map(([, value]) => value);
        const low = Math.min(...values);
        const high = Math.max(...values);
        const span = high - low || 1;
        const last = Math.max(this.data.trend.length - 1, 1);
        return points
            .map(([index, value]) => {
                const x = (100 * index) / last;
                const y = 28 - (26 * (value - low)) / span;
                return `${x.toFixed(1)},${y.toFixed(1)}`;
            })
            .join(" ");
    }

    get trendTitle() {
        return this.data.trend
            .map(
                (month) =>
                    `${month.label}: ${_t("DSO")} ${this.number(month.dso)}, ${_t(
                        "CEI"
                    )} ${this.percent(month.cei)}`
            )
            .join("\n");
    }

    async open(tile, value = null) {
        const action = await this.orm.call("ar.overview", "action_open_tile", [tile, value]);
        await this.actionService.doAction(action);
    }
}

registry.category("actions").add("ar_credit_control.overview", CreditControlOverview);
