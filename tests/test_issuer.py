"""Issuer attribution on real report titles: who issued it, at what level, with which body id.

The first table holds titles seen on real government pages (the registry's evidence, the seeds,
shared/portals.tsv) with the registry entry they were found under; expected values were decided by
reading each title. The second holds the shapes that need more than the title.
"""

from __future__ import annotations

import pytest

from archive.classify import year_in_title
from archive.issuer import Context, attribute, normalise_zone, signature, title_issuer

# (title, source adcode, source level, source region, expected body id, expected level)
REAL_TITLES = [
    ('北京市朝阳区司法局2023年法治政府建设年度情况报告', '110105', 'department', '北京市朝阳区', '110105:司法局', 'department'),
    ('北京市教育委员会2022年法治政府建设情况报告', '110000', 'department', '北京市', '110000:教育委员会', 'department'),
    ('北京经济技术开发区2021年法治政府建设情况报告', '110115', 'zone', '北京经济技术开发区', '110115:北京经开区', 'zone'),
    ('滨海新区司法局2024年法治政府建设情况报告', '120116', 'department', '天津市滨海新区', '120116:司法局', 'department'),
    ('天津市司法局关于2023年度法治政府建设情况的报告', '120000', 'department', '天津市', '120000:司法局', 'department'),
    ('天津市司法局关于2025年度法治政府建设情况的报告', '120000', 'department', '天津市', '120000:司法局', 'department'),
    ('2025年天津经济技术开发区法治政府建设情况报告', '120116', 'zone', '天津经济技术开发区', '120116:天津经开区', 'zone'),
    ('唐山高新区管委会关于法治政府建设情况的报告', '130200', 'zone', '唐山高新区', '130200:唐山高新区', 'zone'),
    ('省司法厅2024年法治政府建设', '140000', 'department', '山西省', '140000:司法厅', 'department'),
    ('长春市政务服务化数字化建设管理局2024年法治政府建设', '220100', 'department', '吉林省长春市', '220100:政务服务化数字化建设管理局', 'department'),
    ('长春汽车经济技术开发区2024年度法治政府建设工作报告', '220100', 'zone', '长春汽车经济技术开发区', '220100:长春汽车经开区', 'zone'),
    ('黑龙江省司法厅关于2023年法治政府建设情况的报告', '230000', 'department', '黑龙江省', '230000:司法厅', 'department'),
    ('上海市司法局2023年法治政府建设情况报告', '310000', 'department', '上海市', '310000:司法局', 'department'),
    ('临港新片区2023年度法治工作情况报告', '310000', 'zone', '中国(上海)自由贸易试验区临港新片区', '310000:中国(上海)自由贸易试验区临港新片区', 'zone'),
    ('临港新片区管委会2020年法治政府建设年度报告', '310000', 'zone', '中国(上海)自由贸易试验区临港新片区', '310000:中国(上海)自由贸易试验区临港新片区', 'zone'),
    ('中国(上海)自由贸易试验区管理委员会保税区管理局2023年度法治政府建设情况报告', '310115', 'zone', '中国(上海)自由贸易试验区保税区', '310000:中国(上海)自由贸易试验区管理委员会保税区管理局', 'zone'),
    ('江苏省司法厅2022年度法治政府建设情况报告', '320000', 'department', '江苏省', '320000:司法厅', 'department'),
    ('苏州工业园区2023年法治政府建设', '320500', 'zone', '苏州工业园区', '320500:苏州工业园区', 'zone'),
    ('苏州工业园区2022年法治政府建设工作情况报告', '320500', 'zone', '苏州工业园区', '320500:苏州工业园区', 'zone'),
    ('滨江区司法局2024年法治政府建设', '330108', 'department', '浙江省杭州市滨江区', '330108:司法局', 'department'),
    ('绍兴市司法局2021年法治政府建设情况报告', '330600', 'department', '浙江省绍兴市', '330600:司法局', 'department'),
    ('宁波高新区法治政府建设工作报告', '330212', 'zone', '宁波高新区', '330212:宁波高新区', 'zone'),
    ('六安市司法局关于2022年法治政府建设情况的报告', '341500', 'department', '安徽省六安市', '341500:司法局', 'department'),
    ('福建省司法厅2023年法治政府建设', '350000', 'department', '福建省', '350000:司法厅', 'department'),
    ('湄洲岛国家旅游度假区2025年法治政府建设', '350305', 'zone', '莆田市湄洲岛国家旅游度假区', '350305:湄洲岛旅游度假区', 'zone'),
    ('九江市教育局2025年法治政府工作总结', '360400', 'department', '江西省九江市', '360400:教育局', 'department'),
    ('南昌高新区2023年法治政府建设工作报告', '360100', 'zone', '南昌高新区', '360100:南昌高新区', 'zone'),
    ('省司法厅2023年法治政府建设', '370000', 'department', '山东省', '370000:司法厅', 'department'),
    ('威海经济技术开发区2018年法治政府建设', '371000', 'zone', '威海经济技术开发区', '371000:威海经开区', 'zone'),
    ('郑州市教育局关于2022年法治政府建设工作情况的报告', '410100', 'department', '河南省郑州市', '410100:教育局', 'department'),
    ('郑东新区2025年度法治政府建设情况报告', '410100', 'zone', '河南省郑州市郑东新区', '410100:郑东新区', 'zone'),
    ('【法治建设报告】湖北省司法厅2023年法治政府建设年度报告', '420000', 'department', '湖北省', '420000:司法厅', 'department'),
    ('武汉市司法局关于2023年度法治政府建设情况的报告', '420100', 'department', '湖北省武汉市', '420100:司法局', 'department'),
    ('蒸湘区司法局2024年法治建设年度报告', '430408', 'department', '湖南省衡阳市蒸湘区', '430408:司法局', 'department'),
    ('广州市司法局关于2023年度法治政府建设情况的报告', '440100', 'department', '广东省广州市', '440100:司法局', 'department'),
    ('广东省司法厅关于2024年度法治政府建设情况的报告', '440000', 'department', '广东省', '440000:司法厅', 'department'),
    ('高新区2023年法治政府建设情况报告', '440400', 'zone', '广东省珠海市珠海高新区', '440400:珠海高新区', 'zone'),
    ('柳州市城市管理局2025年法治政府建设年度报告', '450200', 'department', '广西壮族自治区柳州市', '450200:城市管理局', 'department'),
    ('柳州市司法局2024年法治政府建设年度报告', '450200', 'department', '广西壮族自治区柳州市', '450200:司法局', 'department'),
    ('广西-东盟经开区2024年度开展法治政府建设情况报告', '450110', 'zone', '广西壮族自治区南宁市广西-东盟经济技术开发区', '450110:广西-东盟经开区', 'zone'),
    ('重庆市发展和改革委员会关于2023年法治政府建设情况的报告', '500000', 'department', '重庆市', '500000:发展和改革委员会', 'department'),
    ('区司法局关于2025年法治政府建设情况的报告', '500107', 'department', '重庆市九龙坡区', '500107:司法局', 'department'),
    ('重庆市科学技术局2024年度法治政府建设情况报告', '500000', 'department', '重庆市', '500000:科学技术局', 'department'),
    ('重庆市开州区发展和改革委员会关于2023年法治政府建设情况的报告', '500154', 'department', '重庆市开州区', '500154:发展和改革委员会', 'department'),
    ('重庆市司法局2022年法治政府建设情况报告', '500000', 'department', '重庆市', '500000:司法局', 'department'),
    ('重庆市沙坪坝区科学技术局关于2024年法治政府建设情况的报告', '500106', 'department', '重庆市沙坪坝区', '500106:科学技术局', 'department'),
    ('西部科学城重庆高新区2022年法治政府建设工作情况报告', '500107', 'zone', '重庆高新区', '500107:重庆高新区', 'zone'),
    ('四川省司法厅2020年推进法治政府建设工作情况', '510000', 'department', '四川省', '510000:司法厅', 'department'),
    ('中共遂宁市河东新区工作委员会 遂宁市河东新区管理委员会 关于2024年法治政府建设工作情况的报告', '510900', 'zone', '四川省遂宁市河东新区', '510900:河东新区', 'zone'),
    ('贵州双龙航空港经济区2023年度法治政府建设工作情况报告', '520100', 'zone', '贵州双龙航空港经济区', '520100:贵州双龙航空港经济区', 'zone'),
    ('武定县人民政府办公室2022年度推进法治政府建设', '532329', 'department', '云南省楚雄彝族自治州武定县', '532329:人民政府办公室', 'department'),
    ('西咸新区2023年度法治政府建设工作报告', '610100', 'zone', '陕西省西咸新区', '610100:西咸新区', 'zone'),
    ('兰州新区管理委员会关于报送《兰州新区2022年度法治政府建设情况》的报告', '620100', 'zone', '甘肃省兰州新区', '620100:兰州新区', 'zone'),
    ('西城区2025年法治政府建设工作总结', '632801', 'zone', '青海省海西州格尔木市西城区', '632801:海西州格尔木市西城区', 'zone'),
    ('北京市2022年法治政府建设年度情况报告', '110000', 'province', '北京市', '110000', 'province'),
    ('北京市石景山区人民政府2023年法治政府建设年度情况报告', '110107', 'county', '北京市石景山区', '110107', 'county'),
    ('西城区2023年法治政府建设情况报告', '110102', 'county', '北京市西城区', '110102', 'county'),
    ('静海区2023年度法治政府建设情况报告', '120118', 'county', '天津市静海区', '120118', 'county'),
    ('河北省2020年度法治政府建设情况报告', '130000', 'province', '河北省', '130000', 'province'),
    ('望都县人民政府2024年法治政府建设年度报告', '130631', 'county', '河北省保定市望都县', '130631', 'county'),
    ('山西省2024年法治政府建设', '140000', 'province', '山西省', '140000', 'province'),
    ('太原市2024年法治政府建设年度报告', '140100', 'city', '山西省太原市', '140100', 'city'),
    ('呼和浩特市2024年法治政府建设', '150100', 'city', '内蒙古自治区呼和浩特市', '150100', 'city'),
    ('乌审旗2024年度法治政府建设工作情况总结', '150626', 'county', '内蒙古自治区鄂尔多斯市乌审旗', '150626', 'county'),
    ('中共朝阳市委 朝阳市人民政府 关于2022年法治政府建设情况的报告', '211300', 'city', '辽宁省朝阳市', '211300', 'city'),
    ('沈阳市人民政府关于2025年法治政府建设情况的报告', '210100', 'city', '辽宁省沈阳市', '210100', 'city'),
    ('关于2025年法治政府建设情况的报告', '210811', 'county', '辽宁省营口市老边区', '210811', 'county'),
    ('长春市人民政府关于2023年度法治政府建设情况的报告', '220100', 'city', '吉林省长春市', '220100', 'city'),
    ('黑龙江省2021年法治政府建设', '230000', 'province', '黑龙江省', '230000', 'province'),
    ('2024年上海市法治政府建设情况报告', '310000', 'province', '上海市', '310000', 'province'),
    ('2023年闵行区法治政府建设工作情况报告', '310112', 'county', '上海市闵行区', '310112', 'county'),
    ('江苏省2022年度法治政府建设情况报告', '320000', 'province', '江苏省', '320000', 'province'),
    ('苏州市2023年法治政府建设', '320500', 'city', '江苏省苏州市', '320500', 'city'),
    ('浙江省2021年法治政府建设情况', '330000', 'province', '浙江省', '330000', 'province'),
    ('桐庐县人民政府关于桐庐县2023年法治政府建设年度报告', '330122', 'county', '浙江省杭州市桐庐县', '330122', 'county'),
    ('安徽省人民政府关于2023年法治政府建设情况的报告', '340000', 'province', '安徽省', '340000', 'province'),
    ('芜湖市人民政府关于2023年法治政府建设情况的报告', '340200', 'city', '安徽省芜湖市', '340200', 'city'),
    ('福建省2023年度法治政府建設情況', '350000', 'province', '福建省', '350000', 'province'),
    ('漳州市2024年法治政府建设', '350600', 'city', '福建省漳州市', '350600', 'city'),
    ('南昌市2023年法治政府建设情况的报告', '360100', 'city', '江西省南昌市', '360100', 'city'),
    ('兴国县2022年法治政府建设', '360732', 'county', '江西省赣州市兴国县', '360732', 'county'),
    ('济南市2024年法治政府建设', '370100', 'city', '山东省济南市', '370100', 'city'),
    ('2022年威海市法治政府建设情况报告', '371000', 'city', '山东省威海市', '371000', 'city'),
    ('威海市文登区人民政府2022年度法治政府建设情况报告', '371003', 'county', '山东省威海市文登区', '371003', 'county'),
    ('洛阳市人民政府关于2024年度法治政府建设情况的报告', '410300', 'city', '河南省洛阳市', '410300', 'city'),
    ('武汉市人民政府关于2022年度推进法治政府建设情况的报告', '420100', 'city', '湖北省武汉市', '420100', 'city'),
    ('省政府2024年度法治政府建设情况报告', '430000', 'province', '湖南省', '430000', 'province'),
    ('岳阳县人民政府关于2021年度法治政府建设工作报告', '430621', 'county', '湖南省岳阳市岳阳县', '430621', 'county'),
    ('广东2024年法治政府建设情况报告', '440000', 'province', '广东省', '440000', 'province'),
    ('桂林市2018年度法治政府建设情况报告', '450000', 'department', '广西壮族自治区', '450300', 'city'),
    ('柳城县2024年法治政府建设年度报告', '450222', 'county', '广西壮族自治区柳州市柳城县', '450222', 'county'),
    ('中共海南省委 海南省人民政府关于2022年法治政府建设情况的报告', '460000', 'province', '海南省', '460000', 'province'),
    ('琼海市人民政府关于2023年度法治政府建设情况的报告', '469002', 'county', '海南省琼海市', '469002', 'county'),
    ('重庆市巴南区人民政府关于2022年法治政府建设工作情况的报告', '500113', 'county', '重庆市巴南区', '500113', 'county'),
    ('重庆市九龙坡区人民政府关于2022年法治政府建设情况的报告', '500107', 'county', '重庆市九龙坡区', '500107', 'county'),
    ('重庆市黔江区人民政府关于2022年度法治政府建设情况的报告', '500114', 'county', '重庆市黔江区', '500114', 'county'),
    ('重庆市铜梁区2024年法治政府建设工作报告', '500151', 'county', '重庆市铜梁区', '500151', 'county'),
    ('四川省人民政府2024年度法治政府建设工作情况', '510000', 'province', '四川省', '510000', 'province'),
    ('中共遂宁市安居区委 遂宁市安居区人民政府关于2024年度法治政府建设工作的报告', '510904', 'county', '四川省遂宁市安居区', '510904', 'county'),
    ('黔西南州人民政府关于2020年度法治政府建设情况的报告', '522300', 'city', '贵州省黔西南布依族苗族自治州', '522300', 'city'),
    ('红河州2023年法治政府建设', '532500', 'city', '云南省红河哈尼族彝族自治州', '532500', 'city'),
    ('那曲市2024年法治政府建设', '540600', 'city', '西藏自治区那曲市', '540600', 'city'),
    ('省政府2023年法治政府建设', '610000', 'province', '陕西省', '610000', 'province'),
    ('高陵区2025年法治政府建设情况报告', '610117', 'county', '陕西省西安市高陵区', '610117', 'county'),
    ('2025年陇西县法治政府建设情况', '621122', 'county', '甘肃省定西市陇西县', '621122', 'county'),
    ('城中区2025年法治政府建设', '630103', 'county', '青海省西宁市城中区', '630103', 'county'),
    ('银川市2024年法治政府建设', '640100', 'city', '宁夏回族自治区银川市', '640100', 'city'),
    ('红寺堡区2024年法治政府建设的年度报告', '640303', 'county', '宁夏回族自治区吴忠市红寺堡区', '640303', 'county'),
    ('昌吉州人民政府2024年度法治政府建设情况报告', '652300', 'city', '新疆维吾尔自治区昌吉回族自治州', '652300', 'city'),
    ('托克逊县2024年度法治政府建设工作报告', '650422', 'county', '新疆维吾尔自治区吐鲁番市托克逊县', '650422', 'county'),
    # seeds and shared/portals.tsv
    ('重庆市巴南区人民政府关于2022年法治政府建设情况的报告', '500113', 'county', '重庆市巴南区', '500113', 'county'),
    ('重庆市綦江区人民政府关于2022年法治政府建设情况的报告', '500110', 'county', '重庆市綦江区', '500110', 'county'),
    ('重庆市铜梁区司法局2022年法治政府建设情况报告', '500151', 'department', '重庆市铜梁区', '500151:司法局', 'department'),
    ('重庆市渝中区人民政府关于2024年法治政府建设情况的报告', '500103', 'county', '重庆市渝中区', '500103', 'county'),
    ('天津市静海区人民政府关于2023年法治政府建设情况的报告', '120118', 'county', '天津市静海区', '120118', 'county'),
    ('广州开发区、广州市黄埔区2023年法治政府建设年度报告', '440112', 'county', '广州市黄埔区', '440112', 'county'),
    ('漳州高新区管委会关于2022年度法治政府建设的工作报告', '350600', 'zone', '漳州高新区', '350600:漳州高新区', 'zone'),
    ('重庆高新区关于2022年法治政府建设情况的报告', '500107', 'zone', '重庆高新区', '500107:重庆高新区', 'zone'),
]

# Shapes beyond the registry: collection columns, reposts, departments named by every county.
# (title, source adcode, source level, source region, expected body id, expected level)
SHAPES = [
    # a county's report on its city's collection column
    ('灵丘县2023年法治政府建设年度报告', '140200', 'city', '山西省大同市', '140224', 'county'),
    ('浑源县人民政府关于2022年度法治政府建设情况的报告', '140200', 'city', '山西省大同市', '140225', 'county'),
    # the year before the issuer, on a collection column
    ('2023年闵行区法治政府建设工作情况报告', '310000', 'province', '上海市', '310112', 'county'),
    # a province's report reposted by a county
    ('黑龙江省2024年度法治政府建设情况报告', '230422', 'county', '黑龙江省鹤岗市绥滨县', '230000', 'province'),
    # departments whose names hold words that exclude documents elsewhere (规划, 考核, 统计)
    ('重庆市九龙坡区规划和自然资源局关于2023年法治政府建设情况的报告', '500107', 'county', '重庆市九龙坡区', '500107:规划和自然资源局', 'department'),
    ('九龙坡区统计局2023年法治政府建设工作报告', '500107', 'county', '重庆市九龙坡区', '500107:统计局', 'department'),
    ('大同市市场监督管理局关于2023年法治政府建设情况的报告', '140200', 'city', '山西省大同市', '140200:市场监督管理局', 'department'),
    ('灵丘县交通运输局2023年度法治政府建设工作总结', '140200', 'city', '山西省大同市', '140224:交通运输局', 'department'),
    # a zone found on its host district's site keeps the registry zone's id
    ('宁波高新区2023年法治政府建设工作报告', '330212', 'county', '浙江省宁波市鄞州区', '330212:宁波高新区', 'zone'),
    ('宁波国家高新区2022年度法治政府建设情况报告', '330212', 'zone', '宁波高新区', '330212:宁波高新区', 'zone'),
    # joint party + government reports are the government's
    ('中共重庆市九龙坡区委 重庆市九龙坡区人民政府关于2023年法治政府建设情况的报告', '500107', 'county', '重庆市九龙坡区', '500107', 'county'),
    ('中共大同市委、大同市人民政府关于2022年法治政府建设工作情况的报告', '140200', 'city', '山西省大同市', '140200', 'city'),
    # interpretations of the same report name the same issuer
    ('【政策解读】重庆市九龙坡区人民政府关于2022年法治政府建设情况的报告', '500107', 'county', '重庆市九龙坡区', '500107', 'county'),
    # no issuer in the title: the registry entry's body
    ('2023年度法治政府建设工作报告', '140224', 'county', '山西省大同市灵丘县', '140224', 'county'),
    ('法治政府建设年度报告（2022年）', '110105', 'department', '北京市朝阳区', None, None),
]
ZONES = {"宁波高新区": "330212", "重庆高新区": "500107"}


@pytest.mark.parametrize(("title", "adcode", "level", "region", "body_id", "body_level"),
                         REAL_TITLES + SHAPES)
def test_attribution(title: str, adcode: str, level: str, region: str, body_id: str | None,
                     body_level: str | None) -> None:
    ctx = Context(adcode=adcode, level=level, region=region, zones=ZONES)
    issuer = attribute(title, "", ctx, year_in_title(title))
    if body_id is None:
        # a department entry with no body name and a title that names none: unknown, not guessed
        assert issuer is None or issuer.level != "department"
        return
    assert issuer is not None, title
    assert (issuer.body_id, issuer.level) == (body_id, body_level), (title, issuer)


def test_table_size() -> None:
    assert len(REAL_TITLES) + len(SHAPES) >= 80


def test_names_read_as_documents_write_them() -> None:
    issuer = attribute("北京市朝阳区司法局2023年法治政府建设年度情况报告", "",
                       Context(adcode="110105", level="department", region="北京市朝阳区"), 2023)
    assert issuer is not None and issuer.name == "北京市朝阳区司法局"
    assert issuer.as_written == "北京市朝阳区司法局" and issuer.source == "title"
    gov = attribute("灵丘县2023年法治政府建设年度报告", "", Context(adcode="140200", level="city"),
                    2023)
    assert gov is not None and gov.name == "大同市灵丘县人民政府"


def test_signature_names_the_issuer_when_the_title_does_not() -> None:
    text = "2024年，高新区坚持……\n（正文）\n宁波高新区党工委\n2025年3月28日"
    assert signature(text) == "宁波高新区党工委"
    issuer = attribute("法治政府建设工作报告", text, Context(zones=ZONES), 2024)
    assert issuer is not None and issuer.body_id == "330212:宁波高新区"
    assert issuer.source == "signature"


def test_addressee_is_not_the_issuer() -> None:
    # A memo opens with its superior ("漳州市人民政府："); the issuer is the title's body.
    text = "漳州市人民政府：\n现将我委2022年度法治政府建设情况报告如下。\n……"
    issuer = attribute("漳州高新区管委会关于2022年度法治政府建设的工作报告", text,
                       Context(adcode="350600", level="zone", region="漳州高新区"), 2022)
    assert issuer is not None and issuer.body_id == "350600:漳州高新区"


def test_publisher_and_site_id_are_last_resorts() -> None:
    issuer = attribute("法治政府建设年度报告", "", Context(), 2023, publisher="灵丘县司法局")
    assert issuer is not None and issuer.body_id == "140224:司法局"
    issuer = attribute("法治政府建设年度报告", "", Context(site_id_code="1402240001"), 2023)
    assert issuer is not None and (issuer.body_id, issuer.source) == ("140224", "site_id")


def test_title_issuer_cuts_before_year_or_topic() -> None:
    assert title_issuer("【法治建设报告】湖北省司法厅2023年法治政府建设年度报告") == "湖北省司法厅"
    assert title_issuer("2023年闵行区法治政府建设工作情况报告") == "闵行区"
    assert title_issuer("2023年度法治政府建设工作报告") is None
    assert title_issuer("宁波高新区法治政府建设工作报告") == "宁波高新区"


@pytest.mark.parametrize(("name", "normal"), [
    ("重庆高新技术产业开发区管理委员会", "重庆高新区"),
    ("宁波国家高新区", "宁波高新区"),
    ("广东省珠海市珠海高新区", "珠海高新区"),
    ("宁波杭州湾新区管委会", "宁波杭州湾新区"),
    ("苏州工业园区", "苏州工业园区"),
])
def test_zone_names_normalise(name: str, normal: str) -> None:
    assert normalise_zone(name) == normal
